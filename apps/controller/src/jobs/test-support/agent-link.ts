import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { createKeyAndCsr } from "@pwdr/pki";
import {
  AgentMessageSchema,
  AgentSessionService,
  type ControllerMessage,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  EnrollmentService,
} from "@pwdr/protocol";
import type { RunningController } from "../../controller-server.js";
import { createEnrollmentToken } from "../../enrollment-tokens.js";

type AgentBody = NonNullable<MessageInitShape<typeof AgentMessageSchema>["body"]>;

/** An enrolled host speaking to a real controller over its mutual-TLS session, like an agent. */
export interface AgentLink {
  hostId: string;
  hostName: string;
  received: ControllerMessage[];
  send(body: AgentBody): void;
  /** Waits until the controller has sent `count` messages of this kind. */
  waitFor(kind: ControllerMessage["body"]["case"], count?: number): Promise<ControllerMessage[]>;
  close(): void;
}

export async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function connectAgent(controller: RunningController, hostname: string): Promise<AgentLink> {
  const { token } = await createEnrollmentToken(controller.db, controller.pki.caFingerprint, {
    ttlMs: 60_000,
    labels: {},
    createdBy: "test",
  });
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "agent" });
  const enroll = createClient(
    EnrollmentService,
    controller.enrollAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem }),
    controllerChannelOptions(),
  );
  const enrolled = await enroll.enroll({ token, csrPem, facts: { hostname } });
  enroll.grpcClient.close();
  const client = createClient(
    AgentSessionService,
    controller.sessionAddress,
    clientCredentials({
      caPem: controller.pki.ca.certPem,
      identity: { certPem: enrolled.certificatePem, keyPem },
    }),
    controllerChannelOptions(),
  );
  const stream = client.session();
  const received: ControllerMessage[] = [];
  stream.on("data", (m: ControllerMessage) => received.push(m));
  stream.on("error", (_err: grpc.ServiceError) => {});
  const send = (body: AgentBody) => stream.write(create(AgentMessageSchema, { body }));
  send({ case: "hello", value: { facts: { hostname } } });
  const ofKind = (kind: string) => received.filter((m) => m.body.case === kind);
  const link: AgentLink = {
    hostId: enrolled.hostId,
    hostName: enrolled.hostName,
    received,
    send,
    async waitFor(kind, count = 1) {
      await until(() => ofKind(kind as string).length >= count, `${count} ${kind} message(s)`);
      return ofKind(kind as string);
    },
    close() {
      stream.cancel();
      client.grpcClient.close();
    },
  };
  await link.waitFor("welcome");
  return link;
}
