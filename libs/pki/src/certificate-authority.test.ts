import { createPublicKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, issueServerCertificate } from "./index.js";
import { openssl, scratchFile } from "./test-support/openssl.js";

describe("createCertificateAuthority", () => {
  it("creates a self-signed P-256 CA that Node and OpenSSL accept as a CA", async () => {
    const ca = await createCertificateAuthority({ commonName: "PWDR Fleet CA", validityDays: 3650 });
    const cert = new X509Certificate(ca.certPem);

    expect(cert.subject).toBe("CN=PWDR Fleet CA");
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const days = (Date.parse(cert.validTo) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(3649);
    expect(days).toBeLessThanOrEqual(3650);

    const text = openssl("x509", "-noout", "-text", "-in", scratchFile("ca.pem", ca.certPem)).output;
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
    expect(text).toContain("X509v3 Subject Key Identifier");
    expect(text).toContain("ecdsa-with-SHA256");
    expect(
      openssl(
        "verify",
        "-x509_strict",
        "-CAfile",
        scratchFile("ca2.pem", ca.certPem),
        scratchFile("ca3.pem", ca.certPem),
      ).status,
    ).toBe(0);
  });

  it("returns a PKCS#8 key that belongs to the certificate", async () => {
    const ca = await createCertificateAuthority({ commonName: "ca", validityDays: 1 });
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const fromKey = createPublicKey(ca.keyPem).export({ type: "spki", format: "der" });
    const fromCert = new X509Certificate(ca.certPem).publicKey.export({ type: "spki", format: "der" });
    expect(fromKey.equals(fromCert)).toBe(true);
  });

  it("refuses options that would produce an unusable CA", async () => {
    await expect(createCertificateAuthority({ commonName: "", validityDays: 1 })).rejects.toMatchObject({
      code: "PKI_INVALID_OPTIONS",
    });
    await expect(createCertificateAuthority({ commonName: "ca", validityDays: 0 })).rejects.toMatchObject({
      code: "PKI_INVALID_OPTIONS",
      message: expect.stringContaining("validityDays"),
    });
  });

  it("refuses to sign with a key that belongs to another CA", async () => {
    const ca = await createCertificateAuthority({ commonName: "ca", validityDays: 1 });
    const other = await createCertificateAuthority({ commonName: "other", validityDays: 1 });
    const mixed = { certPem: ca.certPem, keyPem: other.keyPem };
    await expect(
      issueServerCertificate(mixed, { commonName: "s", dnsNames: ["localhost"], validityDays: 1 }),
    ).rejects.toMatchObject({ code: "PKI_KEY_MISMATCH", name: "KeyMismatchError" });
  });

  it("refuses a non-CA certificate as issuer", async () => {
    const ca = await createCertificateAuthority({ commonName: "ca", validityDays: 1 });
    const server = await issueServerCertificate(ca, {
      commonName: "s",
      dnsNames: ["localhost"],
      validityDays: 1,
    });
    await expect(
      issueServerCertificate(server, { commonName: "t", dnsNames: ["localhost"], validityDays: 1 }),
    ).rejects.toMatchObject({ code: "PKI_INVALID_OPTIONS", message: expect.stringContaining("is not a CA") });
  });
});
