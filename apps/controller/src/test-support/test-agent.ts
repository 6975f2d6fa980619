// A test's stand-in for an agent against a real controller: enrollment with a
// one-time token and a CSR, then a mutual-TLS session stream.
import type * as grpc from "@grpc/grpc-js";
import { createKeyAndCsr } from "@pwdr/pki";
import {
  AgentSessionService,
  type ControllerMessage,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  EnrollmentService,
  type TlsIdentity,
} from "@pwdr/protocol";
import type { RunningController } from "../controller-server.js";
import { createEnrollmentToken } from "../enrollment-tokens.js";

export interface EnrolledTestHost {
  hostId: string;
  hostName: string;
  identity: TlsIdentity;
}

/** Enrolls a host as `pwdr-agent enroll` does: a fresh key, a CSR, a token created for it. */
export async function enrollTestHost(
  controller: RunningController,
  hostname: string,
  labels: Record<string, string> = {},
): Promise<EnrolledTestHost> {
  const { token } = await createEnrollmentToken(controller.db, controller.pki.caFingerprint, {
    ttlMs: 60_000,
    labels,
    createdBy: "test",
  });
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "agent" });
  const client = createClient(
    EnrollmentService,
    controller.enrollAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem }),
    controllerChannelOptions(),
  );
  try {
    const res = await client.enroll({ token, csrPem, facts: { hostname } });
    return { hostId: res.hostId, hostName: res.hostName, identity: { certPem: res.certificatePem, keyPem } };
  } finally {
    client.grpcClient.close();
  }
}

/** Opens a session stream with `identity`; collects what the controller sends and how the stream ends. */
export function openTestSession(
  controller: Pick<RunningController, "sessionAddress" | "pki">,
  identity: TlsIdentity,
) {
  const client = createClient(
    AgentSessionService,
    controller.sessionAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem, identity }),
    controllerChannelOptions(),
  );
  const stream = client.session();
  const received: ControllerMessage[] = [];
  const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
    stream.on("data", (m: ControllerMessage) => received.push(m));
    stream.on("error", (err: grpc.ServiceError) => resolve(err));
    stream.on("end", () => resolve(undefined));
  });
  return { client, stream, received, ended };
}
