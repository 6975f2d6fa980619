import { X509Certificate } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { createLogger } from "@pwdr/logging";
import { createKeyAndCsr } from "@pwdr/pki";
import {
  type ControllerMessage,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  EnrollmentService,
  generateEnrollmentToken,
  type TlsIdentity,
} from "@pwdr/protocol";
import { createTestCa, makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningController, startController } from "./controller-server.js";
import { createEnrollmentToken } from "./enrollment-tokens.js";
import { revokeHost } from "./host-revocation.js";
import { openTestSession } from "./test-support/test-agent.js";

let controller: RunningController;

beforeAll(async () => {
  controller = await startController({
    dataDir: await makeTempDir("pwdr-controller-"),
    sessionPort: 0,
    enrollPort: 0,
    heartbeatIntervalMs: 200,
    log: createLogger("controller", "error"),
  });
});

afterAll(async () => {
  await controller?.close();
});

function enrollClient() {
  return createClient(
    EnrollmentService,
    controller.enrollAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem }),
    controllerChannelOptions(),
  );
}

async function newToken(ttlMs = 60_000): Promise<string> {
  const created = await createEnrollmentToken(controller.db, controller.pki.caFingerprint, {
    ttlMs,
    labels: { site: "test" },
    createdBy: "test",
  });
  return created.token;
}

async function enroll(hostname: string): Promise<{ hostId: string; identity: TlsIdentity }> {
  const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "agent" });
  const client = enrollClient();
  const res = await client.enroll({ token: await newToken(), csrPem, facts: { hostname } });
  client.grpcClient.close();
  return { hostId: res.hostId, identity: { certPem: res.certificatePem, keyPem } };
}

function openSession(identity: TlsIdentity) {
  return openTestSession(controller, identity);
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("enrollment", () => {
  it("signs the agent's CSR once per token and records the host with the token's labels", async () => {
    const token = await newToken();
    const { csrPem } = await createKeyAndCsr({ commonName: "agent" });
    const client = enrollClient();
    const res = await client.enroll({ token, csrPem, facts: { hostname: "pi-enroll" } });
    expect(res.hostName).toBe("pi-enroll");
    expect(res.sessionAddress).toBe(controller.sessionAddress);
    const host = await controller.db.host.findUniqueOrThrow({ where: { id: res.hostId } });
    expect(host.labels).toEqual({ site: "test" });
    await expect(client.enroll({ token, csrPem, facts: { hostname: "again" } })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const second = await enroll("pi-enroll");
    const renamed = await controller.db.host.findUniqueOrThrow({ where: { id: second.hostId } });
    expect(renamed.name).toMatch(/^pi-enroll-[0-9a-f]{8}$/);
    client.grpcClient.close();
  });

  it("refuses expired tokens, tokens of another controller and bad CSRs", async () => {
    const client = enrollClient();
    const { csrPem } = await createKeyAndCsr({ commonName: "agent" });
    const expired = await newToken(-1_000);
    await expect(client.enroll({ token: expired, csrPem })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
    });
    const foreign = generateEnrollmentToken("cd".repeat(32)).token;
    await expect(client.enroll({ token: foreign, csrPem })).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: "enrollment token was issued by another controller",
    });
    await expect(client.enroll({ token: await newToken(), csrPem: "garbage" })).rejects.toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
    });
    client.grpcClient.close();
  });
});

describe("agent session", () => {
  it("answers Hello with Welcome, keeps the host online on heartbeats and marks it offline when the stream ends", async () => {
    const { hostId, identity } = await enroll("pi-session");
    const s = openSession(identity);
    s.stream.write({
      body: { case: "hello", value: { facts: { hostname: "pi-session", agentVersion: "9.9.9" } } },
    });
    await until(() => s.received.length > 0, "welcome");
    expect(s.received[0]?.body).toMatchObject({ case: "welcome", value: { hostId, hostName: "pi-session" } });
    const online = await controller.db.host.findUniqueOrThrow({ where: { id: hostId } });
    expect(online).toMatchObject({ state: "online", agentVersion: "9.9.9" });
    const firstSeen = online.lastSeenAt?.getTime() ?? 0;
    await new Promise((r) => setTimeout(r, 20));
    s.stream.write({ body: { case: "heartbeat", value: {} } });
    await until(
      async () =>
        ((await controller.db.host.findUniqueOrThrow({ where: { id: hostId } })).lastSeenAt?.getTime() ?? 0) >
        firstSeen,
      "heartbeat to move lastSeenAt",
    );
    s.stream.end();
    await s.ended;
    await until(
      async () => (await controller.db.host.findUniqueOrThrow({ where: { id: hostId } })).state === "offline",
      "offline",
    );
    s.client.grpcClient.close();
  });

  it("ends a session whose first message is not Hello with FAILED_PRECONDITION", async () => {
    const { identity } = await enroll("pi-rude");
    const s = openSession(identity);
    s.stream.write({ body: { case: "heartbeat", value: {} } });
    expect(await s.ended).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    s.client.grpcClient.close();
  });

  it("refuses a revoked certificate with PERMISSION_DENIED and an expired one with UNAUTHENTICATED", async () => {
    const { hostId, identity } = await enroll("pi-revoked");
    await controller.db.agentCertificate.updateMany({ where: { hostId }, data: { revokedAt: new Date() } });
    const s = openSession(identity);
    s.stream.write({ body: { case: "hello", value: {} } });
    const err = await s.ended;
    expect(err).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(err?.details).toContain("revoked");
    s.client.grpcClient.close();

    const expired = await enroll("pi-expired");
    await controller.db.agentCertificate.updateMany({
      where: { hostId: expired.hostId },
      data: { notAfter: new Date(Date.now() - 1_000) },
    });
    const e = openSession(expired.identity);
    e.stream.write({ body: { case: "hello", value: {} } });
    expect(await e.ended).toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: /expired/ });
    e.client.grpcClient.close();
  });

  it("ends the open stream of a revoked host at once and marks the host offline", async () => {
    const { hostId, identity } = await enroll("pi-cut");
    const s = openSession(identity);
    s.stream.write({ body: { case: "hello", value: {} } });
    await until(() => s.received.length > 0, "welcome");
    const outcome = await revokeHost(controller, hostId);
    expect(outcome).toEqual({ hostId, revokedCertificates: 1, sessionClosed: true });
    const err = await s.ended;
    expect(err).toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: /revoked/ });
    await until(
      async () => (await controller.db.host.findUniqueOrThrow({ where: { id: hostId } })).state === "offline",
      "offline",
    );
    s.client.grpcClient.close();
  });

  it("ends a stream on its next heartbeat when another process revoked the certificate", async () => {
    const { hostId, identity } = await enroll("pi-replica");
    const s = openSession(identity);
    s.stream.write({ body: { case: "hello", value: {} } });
    await until(() => s.received.length > 0, "welcome");
    await controller.db.agentCertificate.updateMany({ where: { hostId }, data: { revokedAt: new Date() } });
    s.stream.write({ body: { case: "heartbeat", value: {} } });
    expect(await s.ended).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    s.client.grpcClient.close();
  });

  it("refuses at the TLS handshake a client certificate from another CA", async () => {
    const other = await createTestCa();
    const s = openSession(await other.issueClient("intruder"));
    s.stream.write({ body: { case: "hello", value: {} } });
    expect(await s.ended).toMatchObject({ code: grpc.status.UNAVAILABLE });
    s.client.grpcClient.close();
  });

  it("closes the older stream when the same host opens a new one", async () => {
    const { identity } = await enroll("pi-twice");
    const first = openSession(identity);
    first.stream.write({ body: { case: "hello", value: {} } });
    await until(() => first.received.length > 0, "first welcome");
    const second = openSession(identity);
    second.stream.write({ body: { case: "hello", value: {} } });
    expect(await first.ended).toMatchObject({ code: grpc.status.ABORTED });
    await until(() => second.received.length > 0, "second welcome");
    second.stream.end();
    first.client.grpcClient.close();
    second.client.grpcClient.close();
  });
});

describe("certificate renewal over the session", () => {
  async function welcomed(identity: TlsIdentity) {
    const s = openSession(identity);
    s.stream.write({ body: { case: "hello", value: {} } });
    await until(() => s.received.length > 0, "welcome");
    return s;
  }

  const lastBody = (s: { received: ControllerMessage[] }) => s.received.at(-1)?.body;

  it("signs a new certificate for the same host, once per stream, and keeps the old one valid", async () => {
    const { hostId, identity } = await enroll("pi-renew");
    const s = await welcomed(identity);
    const next = await createKeyAndCsr({ commonName: "agent" });
    s.stream.write({ body: { case: "renewCertificate", value: { csrPem: next.csrPem } } });
    await until(() => s.received.length > 1, "renewal answer");
    const body = lastBody(s);
    if (body?.case !== "certificateRenewed") throw new Error(`unexpected answer ${body?.case}`);
    const renewed = new X509Certificate(body.value.certificatePem);
    expect(renewed.subject).toBe(`CN=${hostId}`);
    expect(renewed.verify(new X509Certificate(controller.pki.ca.certPem).publicKey)).toBe(true);
    const rows = await controller.db.agentCertificate.findMany({ where: { hostId } });
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.revokedAt === null)).toBe(true);
    const audit = await controller.db.auditEvent.findFirst({ where: { action: "host.certificate.renew" } });
    expect(audit).toMatchObject({ actor: `agent:${hostId}`, target: `host:${hostId}` });

    s.stream.write({ body: { case: "renewCertificate", value: { csrPem: next.csrPem } } });
    await until(() => s.received.length > 2, "second renewal answer");
    expect(lastBody(s)).toMatchObject({ case: "certificateRenewalRefused", value: { reason: /already/ } });

    const fresh = await welcomed({ certPem: body.value.certificatePem, keyPem: next.keyPem });
    expect(fresh.received[0]?.body).toMatchObject({ case: "welcome", value: { hostId } });
    expect(await s.ended).toMatchObject({ code: grpc.status.ABORTED });
    const old = await welcomed(identity);
    expect(old.received[0]?.body).toMatchObject({ case: "welcome", value: { hostId } });
    old.stream.end();
    for (const c of [s, fresh, old]) c.client.grpcClient.close();
  });

  it("refuses a malformed CSR without ending the stream", async () => {
    const { identity } = await enroll("pi-badcsr");
    const s = await welcomed(identity);
    s.stream.write({ body: { case: "renewCertificate", value: { csrPem: "garbage" } } });
    await until(() => s.received.length > 1, "renewal answer");
    expect(lastBody(s)).toMatchObject({ case: "certificateRenewalRefused", value: { reason: /CSR|PEM/ } });
    s.stream.write({ body: { case: "heartbeat", value: {} } });
    s.stream.end();
    expect(await s.ended).toBeUndefined();
    s.client.grpcClient.close();
  });
});
