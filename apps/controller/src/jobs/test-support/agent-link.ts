import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { AgentMessageSchema, type ControllerMessage } from "@pwdr/protocol";
import type { RunningController } from "../../controller-server.js";
import { enrollTestHost, openTestSession } from "../../test-support/test-agent.js";

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
  const enrolled = await enrollTestHost(controller, hostname);
  const { client, stream, received } = openTestSession(controller, enrolled.identity);
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
