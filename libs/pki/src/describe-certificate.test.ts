import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  createCertificateAuthority,
  describeCertificate,
  describeCertificates,
  issueServerCertificate,
} from "./index.js";
import { openssl, scratchPath } from "./test-support/openssl.js";

const ca = await createCertificateAuthority({ commonName: "Describe CA", validityDays: 30 });
const server = await issueServerCertificate(ca, {
  commonName: "db-1",
  dnsNames: ["db-1.fleet.example"],
  ipAddresses: ["10.1.2.3", "fd00::7"],
  validityDays: 5,
});

/** A self-signed certificate made by the openssl CLI, as found on real hosts. */
function opensslCertificate(name: string, ...args: string[]): string {
  const out = scratchPath(`${name}.pem`);
  const made = openssl(
    "req",
    "-x509",
    "-nodes",
    "-days",
    "20",
    "-keyout",
    scratchPath(`${name}.key`),
    "-out",
    out,
    ...args,
  );
  expect(made.status, made.output).toBe(0);
  return readFileSync(out, "utf8");
}

describe("describeCertificate", () => {
  it("describes a certificate issued here the way Node's X509Certificate reads it", () => {
    const described = describeCertificate(server.certPem);
    const node = new X509Certificate(server.certPem);
    expect(described).toEqual({
      subject: "CN=db-1",
      issuer: "CN=Describe CA",
      serialNumber: node.serialNumber,
      notBefore: new Date(node.validFrom),
      notAfter: new Date(node.validTo),
      dnsNames: ["db-1.fleet.example"],
      ipAddresses: ["10.1.2.3", "fd00::7"],
      commonName: "db-1",
      fingerprintSha256: node.fingerprint256,
      isCa: false,
    });
    expect(describeCertificate(ca.certPem)).toMatchObject({ isCa: true, dnsNames: [], ipAddresses: [] });
  });

  it("describes an RSA certificate with SANs made by the openssl CLI", () => {
    const pem = opensslCertificate(
      "rsa-san",
      "-newkey",
      "rsa:2048",
      "-subj",
      "/C=US/O=Acme, Inc./CN=www.acme.example",
      "-addext",
      "subjectAltName=DNS:www.acme.example,DNS:acme.example,IP:192.0.2.10,email:ops@acme.example",
    );
    const node = new X509Certificate(pem);
    expect(describeCertificate(pem)).toEqual({
      subject: "C=US, O=Acme\\, Inc., CN=www.acme.example",
      issuer: "C=US, O=Acme\\, Inc., CN=www.acme.example",
      serialNumber: node.serialNumber,
      notBefore: new Date(node.validFrom),
      notAfter: new Date(node.validTo),
      dnsNames: ["www.acme.example", "acme.example"],
      ipAddresses: ["192.0.2.10"],
      commonName: "www.acme.example",
      fingerprintSha256: node.fingerprint256,
      // `openssl req -x509` marks self-signed certificates as CAs.
      isCa: true,
    });
  });

  it("describes an RSA certificate without SAN or basicConstraints", () => {
    const pem = opensslCertificate(
      "rsa-plain",
      "-newkey",
      "rsa:2048",
      "-subj",
      "/CN=legacy",
      "-addext",
      "basicConstraints=CA:FALSE",
    );
    expect(describeCertificate(pem)).toMatchObject({
      commonName: "legacy",
      dnsNames: [],
      ipAddresses: [],
      isCa: false,
    });
  });

  it("describes a certificate without a commonName", () => {
    const pem = opensslCertificate(
      "no-cn",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-384",
      "-subj",
      "/O=NoName",
      "-addext",
      "subjectAltName=DNS:only-san.example",
    );
    expect(describeCertificate(pem)).toMatchObject({
      subject: "O=NoName",
      commonName: null,
      dnsNames: ["only-san.example"],
    });
  });

  it("keeps going past SAN entries it cannot represent", () => {
    const pem = opensslCertificate(
      "othername",
      "-newkey",
      "ed25519",
      "-subj",
      "/CN=mixed",
      "-addext",
      "subjectAltName=otherName:1.2.3.4;UTF8:x,DNS:mixed.example",
    );
    expect(describeCertificate(pem)).toMatchObject({ commonName: "mixed", dnsNames: ["mixed.example"] });
  });

  it("describes the first certificate of a chain, and describeCertificates all of them", () => {
    const bundle = `${server.keyPem}${server.certPem}\n${ca.certPem}`;
    expect(describeCertificate(bundle).commonName).toBe("db-1");
    expect(describeCertificates(bundle).map((c) => c.commonName)).toEqual(["db-1", "Describe CA"]);
  });

  it("refuses input without a certificate", () => {
    expect(() => describeCertificate(server.keyPem)).toThrow(
      expect.objectContaining({ code: "PKI_INVALID_PEM" }),
    );
    expect(() => describeCertificate("not pem at all")).toThrow(
      expect.objectContaining({ code: "PKI_INVALID_PEM" }),
    );
  });
});
