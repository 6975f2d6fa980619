import * as grpc from "@grpc/grpc-js";
import { createTestCa, type TestCa } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentSessionService,
  addService,
  type ControllerMessage,
  clientCredentials,
  createClient,
  EnrollmentService,
  peerIdentity,
  serverCredentials,
  type TlsIdentity,
} from "./index.js";

const servers: grpc.Server[] = [];
let pki: TestCa;
let serverIdentity: TlsIdentity;
let clientIdentity: TlsIdentity;
const seenPeers: (string | undefined)[] = [];

async function startServer(requireClientCertificate: boolean): Promise<string> {
  const server = new grpc.Server();
  addService(server, EnrollmentService, {
    enroll: (call, callback) => {
      if (call.request.token !== "good") {
        callback({ code: grpc.status.PERMISSION_DENIED, details: "bad token" });
        return;
      }
      callback(null, { hostId: "h1", hostName: call.request.facts?.hostname ?? "", certificatePem: "C" });
    },
  });
  addService(server, AgentSessionService, {
    session: (call) => {
      seenPeers.push(peerIdentity(call)?.commonName);
      call.on("data", (m) => {
        if (m.body.case === "hello") {
          call.write({ body: { case: "welcome", value: { hostName: m.body.value.facts?.hostname ?? "" } } });
        } else if (m.body.case === "heartbeat") {
          call.write({ body: { case: "resultAck", value: { runId: m.body.value.runningJobIds.join(",") } } });
        }
      });
      call.on("end", () => call.end());
    },
  });
  const creds = serverCredentials({
    caPem: pki.ca.certPem,
    identity: serverIdentity,
    requireClientCertificate,
  });
  const port = await new Promise<number>((ok, fail) =>
    server.bindAsync("127.0.0.1:0", creds, (err, p) => (err ? fail(err) : ok(p))),
  );
  servers.push(server);
  return `localhost:${port}`;
}

beforeAll(async () => {
  pki = await createTestCa();
  serverIdentity = await pki.issueServer();
  clientIdentity = await pki.issueClient("agent-1");
});

afterAll(() => {
  for (const s of servers) s.forceShutdown();
});

async function collect(stream: AsyncIterable<ControllerMessage>): Promise<ControllerMessage[]> {
  const out: ControllerMessage[] = [];
  for await (const m of stream) out.push(m);
  return out;
}

describe("typed grpc-js adapter over mutual TLS", () => {
  it("carries a unary call with typed request and response", async () => {
    const address = await startServer(true);
    const client = createClient(
      EnrollmentService,
      address,
      clientCredentials({ caPem: pki.ca.certPem, identity: clientIdentity }),
    );
    const res = await client.enroll({ token: "good", facts: { hostname: "pi-7" } });
    expect(res.$typeName).toBe("pwdr.v1.EnrollResponse");
    expect(res).toMatchObject({ hostId: "h1", hostName: "pi-7", certificatePem: "C" });
    await expect(client.enroll({ token: "bad" })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "bad token",
    });
    client.grpcClient.close();
  });

  it("carries a bidirectional stream in both directions and exposes the verified peer", async () => {
    const address = await startServer(true);
    const client = createClient(
      AgentSessionService,
      address,
      clientCredentials({ caPem: pki.ca.certPem, identity: clientIdentity }),
    );
    const stream = client.session();
    const replies = collect(stream);
    stream.write({ body: { case: "hello", value: { facts: { hostname: "pi-9" } } } });
    stream.write({ body: { case: "heartbeat", value: { runningJobIds: ["a", "b"] } } });
    stream.end();
    const messages = await replies;
    expect(messages.map((m) => m.body.case)).toEqual(["welcome", "resultAck"]);
    expect(messages[0]?.body.value).toMatchObject({ hostName: "pi-9" });
    expect(messages[1]?.body.value).toMatchObject({ runId: "a,b" });
    expect(seenPeers).toContain("agent-1");
    client.grpcClient.close();
  });

  it("refuses a client without a certificate during the TLS handshake", async () => {
    const address = await startServer(true);
    const client = createClient(EnrollmentService, address, clientCredentials({ caPem: pki.ca.certPem }));
    await expect(
      client.enroll({ token: "good" }, { options: { deadline: Date.now() + 5_000 } }),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    client.grpcClient.close();
  });

  it("refuses a client certificate issued by another CA", async () => {
    const address = await startServer(true);
    const stranger = await pki.unrelated.issueClient("agent-evil");
    const client = createClient(
      EnrollmentService,
      address,
      clientCredentials({ caPem: pki.ca.certPem, identity: stranger }),
    );
    await expect(
      client.enroll({ token: "good" }, { options: { deadline: Date.now() + 5_000 } }),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    client.grpcClient.close();
  });

  it("refuses a server whose certificate another CA issued", async () => {
    const address = await startServer(false);
    const client = createClient(
      EnrollmentService,
      address,
      clientCredentials({ caPem: pki.unrelated.ca.certPem }),
    );
    await expect(
      client.enroll({ token: "good" }, { options: { deadline: Date.now() + 5_000 } }),
    ).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
    });
    client.grpcClient.close();
  });

  it("serves clients without a certificate when the server does not require one", async () => {
    const address = await startServer(false);
    const client = createClient(EnrollmentService, address, clientCredentials({ caPem: pki.ca.certPem }));
    await expect(client.enroll({ token: "good" })).resolves.toMatchObject({ hostId: "h1" });
    client.grpcClient.close();
  });
});
