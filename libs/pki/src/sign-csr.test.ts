import { createPublicKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createCertificateAuthority, createKeyAndCsr, isPkiError, signCsr } from "./index.js";
import { openssl, opensslVerify, scratchFile, scratchPath } from "./test-support/openssl.js";

const ca = await createCertificateAuthority({ commonName: "Enrollment CA", validityDays: 30 });

describe("createKeyAndCsr", () => {
  it("makes a CSR that OpenSSL verifies, for the key it returns", async () => {
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "agent-1" });
    const csrFile = scratchFile("agent-1.csr", csrPem);
    const check = openssl("req", "-in", csrFile, "-noout", "-verify", "-subject");
    expect(check.status).toBe(0);
    expect(check.output).toMatch(/verify OK/);
    expect(check.output).toContain("CN = agent-1");
    const csrKey = openssl("req", "-in", csrFile, "-noout", "-pubkey").output;
    expect(csrKey).toBe(createPublicKey(keyPem).export({ type: "spki", format: "pem" }));
  });
});

describe("signCsr", () => {
  it("issues a client certificate for the CSR's key that Node and OpenSSL verify against the CA", async () => {
    const { keyPem, csrPem } = await createKeyAndCsr({ commonName: "agent-2" });
    const signed = await signCsr(ca, csrPem, { commonName: "agent-2", validityDays: 90 });
    const cert = new X509Certificate(signed.certPem);
    const caCert = new X509Certificate(ca.certPem);

    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.publicKey.export({ type: "spki", format: "der" })).toEqual(
      createPublicKey(keyPem).export({ type: "spki", format: "der" }),
    );
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.2"]);
    expect(cert.ca).toBe(false);
    expect(opensslVerify(ca.certPem, signed.certPem, "sslclient").status).toBe(0);
    expect(opensslVerify(ca.certPem, signed.certPem, "sslserver").status).not.toBe(0);
  });

  it("reports the serial number and expiry that are in the certificate", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent-3" });
    const signed = await signCsr(ca, csrPem, { commonName: "agent-3", validityDays: 7 });
    const cert = new X509Certificate(signed.certPem);
    expect(signed.serialNumber).toBe(cert.serialNumber);
    expect(signed.notAfter.getTime()).toBe(Date.parse(cert.validTo));
    expect(signed.notAfter.getTime() - Date.now()).toBeGreaterThan(7 * 86_400_000 - 60_000);
  });

  it("backdates by five minutes for clock skew, but a short-lived certificate only by its own length", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent-5" });
    const notBefore = async (validityDays: number) =>
      Date.parse(
        new X509Certificate((await signCsr(ca, csrPem, { commonName: "a", validityDays })).certPem).validFrom,
      );
    expect(Date.now() - (await notBefore(7))).toBeGreaterThan(5 * 60_000 - 2_000);
    const lag = Date.now() - (await notBefore(30 / 86_400));
    expect(lag).toBeGreaterThan(28_000);
    expect(lag).toBeLessThan(32_000);
  });

  it("uses a fresh random 16-byte serial per certificate", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent-4" });
    const serials = await Promise.all(
      [1, 2, 3].map(
        async () => (await signCsr(ca, csrPem, { commonName: "agent-4", validityDays: 1 })).serialNumber,
      ),
    );
    expect(new Set(serials).size).toBe(3);
    for (const serial of serials) expect(serial.length).toBeGreaterThanOrEqual(30);
    for (const serial of serials) expect(serial.length).toBeLessThanOrEqual(32);
  });

  it("uses the serial number the caller chose", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent-5" });
    const signed = await signCsr(ca, csrPem, {
      commonName: "agent-5",
      validityDays: 1,
      serialNumber: "7f00ab",
    });
    expect(signed.serialNumber).toBe("7F00AB");
    expect(new X509Certificate(signed.certPem).serialNumber).toBe("7F00AB");
    await expect(
      signCsr(ca, csrPem, { commonName: "agent-5", validityDays: 1, serialNumber: "not-hex" }),
    ).rejects.toMatchObject({ code: "PKI_INVALID_OPTIONS" });
  });

  it("names the certificate after the CA's choice, not the CSR's", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "i-am-the-controller" });
    const signed = await signCsr(ca, csrPem, { commonName: "agent-6", validityDays: 1 });
    expect(new X509Certificate(signed.certPem).subject).toBe("CN=agent-6");
  });

  it("refuses a CSR altered after it was signed", async () => {
    const { csrPem } = await createKeyAndCsr({ commonName: "agent-aaaa" });
    const tampered = replaceInDer(csrPem, "agent-aaaa", "agent-zzzz");
    // openssl 3.0 `req -verify` exits 0 either way; only its message tells.
    expect(openssl("req", "-in", scratchFile("tampered.csr", tampered), "-noout", "-verify").output).toMatch(
      /verify failure/,
    );

    await expect(signCsr(ca, tampered, { commonName: "agent-zzzz", validityDays: 1 })).rejects.toMatchObject({
      name: "InvalidCsrError",
      code: "PKI_CSR_BAD_SIGNATURE",
      message: expect.stringMatching(
        /CSR for "CN=agent-zzzz" has a signature that does not match its public key/,
      ),
    });
  });

  it("refuses a CSR for a key that is not ECDSA P-256", async () => {
    const csrFile = scratchPath("rsa.csr");
    const made = openssl(
      "req",
      "-new",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      scratchPath("rsa.key"),
      "-subj",
      "/CN=rsa",
      "-out",
      csrFile,
    );
    expect(made.status).toBe(0);
    await expect(
      signCsr(ca, readFileSync(csrFile, "utf8"), { commonName: "rsa", validityDays: 1 }),
    ).rejects.toMatchObject({
      code: "PKI_CSR_UNSUPPORTED_KEY",
      message: expect.stringContaining("RSASSA-PKCS1-v1_5"),
    });
  });

  it("refuses input that is not a CSR with an error callers can recognise", async () => {
    const error = await signCsr(ca, ca.certPem, { commonName: "x", validityDays: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: "PKI_INVALID_PEM",
      message: expect.stringContaining("BEGIN CERTIFICATE REQUEST"),
    });
    expect(isPkiError(error)).toBe(true);
    expect(isPkiError(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
  });
});

/** Re-encodes the PEM with one string swapped inside the signed data, keeping the DER structure valid. */
function replaceInDer(pem: string, from: string, to: string): string {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, "");
  const der = Buffer.from(body, "base64");
  const at = der.indexOf(from);
  expect(at).toBeGreaterThan(0);
  der.write(to, at);
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join("\n")}\n-----END CERTIFICATE REQUEST-----\n`;
}
