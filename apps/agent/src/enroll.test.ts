import { createServer } from "node:tls";
import { certificateFingerprint } from "@pwdr/protocol";
import { createTestCa } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";
import { EnrollmentError, fetchPinnedCa } from "./enroll.js";

describe("CA pinning before enrollment", () => {
  let address: string;
  let caPem: string;
  const server = createServer();

  beforeAll(async () => {
    const pki = await createTestCa();
    const leaf = await pki.issueServer({ dnsNames: ["pwdr-controller"] });
    caPem = pki.ca.certPem;
    server.setSecureContext({ cert: leaf.certPem + pki.ca.certPem, key: leaf.keyPem });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    address = `127.0.0.1:${port}`;
  });

  afterAll(() => {
    server.close();
  });

  it("returns the CA whose fingerprint the token pins", async () => {
    const pinned = await fetchPinnedCa(address, certificateFingerprint(caPem));
    expect(certificateFingerprint(pinned)).toBe(certificateFingerprint(caPem));
  });

  it("refuses a controller that does not hold the pinned CA", async () => {
    await expect(fetchPinnedCa(address, "00".repeat(32))).rejects.toMatchObject({ code: "ca_mismatch" });
  });

  it("names an unreachable controller", async () => {
    const err = await fetchPinnedCa("127.0.0.1:1", "00".repeat(32)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnrollmentError);
    expect((err as EnrollmentError).code).toBe("controller_unreachable");
  });
});

describe("reconnect backoff", () => {
  it("grows exponentially, stays within [ceiling/2, ceiling] and is capped", () => {
    expect(backoffDelayMs(0, 500, 60_000, () => 0)).toBe(250);
    expect(backoffDelayMs(0, 500, 60_000, () => 1)).toBe(500);
    expect(backoffDelayMs(3, 500, 60_000, () => 1)).toBe(4_000);
    expect(backoffDelayMs(30, 500, 60_000, () => 1)).toBe(60_000);
    expect(backoffDelayMs(30, 500, 60_000, () => 0)).toBe(30_000);
  });
});
