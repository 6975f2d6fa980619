import { X509Certificate } from "node:crypto";
import type { TlsIdentity } from "@pwdr/protocol";
import { createTestCa } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { checkRenewedCertificate, RenewedCertificateError, renewalDueAt } from "./certificate-renewal.js";

const ca = await createTestCa();

describe("certificate renewal checks", () => {
  it("is due when a third of the validity is left", async () => {
    const { certPem } = await ca.issueClient("host-1");
    const cert = new X509Certificate(certPem);
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    expect(renewalDueAt(certPem).getTime()).toBe(Math.round(from + ((to - from) * 2) / 3));
  });

  it("accepts a certificate of the controller CA for the new key and this host only", async () => {
    const renewed = await ca.issueClient("host-1");
    expect(() => checkRenewedCertificate(renewed, ca.ca.certPem, "host-1")).not.toThrow();
    const other = await ca.issueClient("host-1");
    const cases: [TlsIdentity, string, RegExp][] = [
      [await ca.unrelated.issueClient("host-1"), "host-1", /not signed by the controller CA/],
      [{ certPem: renewed.certPem, keyPem: other.keyPem }, "host-1", /not for the key/],
      [renewed, "host-2", /names host "host-1", not "host-2"/],
    ];
    for (const [tls, hostId, message] of cases) {
      const attempt = () => checkRenewedCertificate(tls, ca.ca.certPem, hostId);
      expect(attempt).toThrow(RenewedCertificateError);
      expect(attempt).toThrow(message);
    }
  });
});
