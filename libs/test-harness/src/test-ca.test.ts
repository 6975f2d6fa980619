import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestCa } from "./index.js";

describe("createTestCa", () => {
  it("issues server certificates for localhost and 127.0.0.1, signed by its CA", async () => {
    const testCa = await createTestCa();
    const server = new X509Certificate((await testCa.issueServer({ dnsNames: ["controller.test"] })).certPem);
    expect(server.verify(new X509Certificate(testCa.ca.certPem).publicKey)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkHost("controller.test")).toBe("controller.test");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("issues client certificates with the requested name and a key of their own", async () => {
    const testCa = await createTestCa();
    const client = await testCa.issueClient("agent-9");
    const cert = new X509Certificate(client.certPem);
    expect(cert.subject).toBe("CN=agent-9");
    expect(cert.checkPrivateKey(createPrivateKey(client.keyPem))).toBe(true);
    expect(cert.verify(new X509Certificate(testCa.ca.certPem).publicKey)).toBe(true);
  });

  it("has an unrelated CA whose certificates the main CA does not vouch for", async () => {
    const testCa = await createTestCa();
    const stranger = new X509Certificate((await testCa.unrelated.issueClient("agent-9")).certPem);
    const trusted = new X509Certificate(testCa.ca.certPem);
    expect(stranger.checkIssued(trusted)).toBe(false);
    expect(stranger.verify(trusted.publicKey)).toBe(false);
    expect(stranger.verify(new X509Certificate(testCa.unrelated.ca.certPem).publicKey)).toBe(true);
  });
});
