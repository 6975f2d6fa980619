import type { webcrypto } from "node:crypto";
import type { X509Certificate } from "@peculiar/x509";
import { randomSerialNumber, subjectName, validityPeriod } from "./certificate-fields.js";
import { InvalidOptionsError, KeyMismatchError } from "./errors.js";
import {
  exportPrivateKeyPem,
  generateKeyPair,
  importSigningKey,
  publicKeyDerOf,
  SIGNING_ALGORITHM,
} from "./keys.js";
import { encodePem, parseCertificates } from "./pem.js";
import { x509 } from "./x509-runtime.js";

/** A certificate and its private key, both PEM. */
export interface CertificateWithKey {
  certPem: string;
  keyPem: string;
}

/** A CA as stored by the controller: its self-signed certificate and private key. */
export type CertificateAuthority = CertificateWithKey;

export interface CertificateAuthorityOptions {
  commonName: string;
  validityDays: number;
}

/** What signing needs, checked once: the CA certificate and a key proven to belong to it. */
export interface Issuer {
  cert: X509Certificate;
  signingKey: webcrypto.CryptoKey;
}

export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: subjectName(options.commonName),
    ...validityPeriod(options.validityDays),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      // pathLength 0: this CA signs end-entity certificates only, never intermediates.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: encodePem(cert.rawData, "CERTIFICATE"),
    keyPem: await exportPrivateKeyPem(keys.privateKey),
  };
}

/** Refuses a key from another CA up front: certificates it signed would otherwise fail only at the peer. */
export async function loadIssuer(ca: CertificateAuthority): Promise<Issuer> {
  const [cert] = parseCertificates(ca.certPem, "CA certificate");
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new InvalidOptionsError(
      `the CA certificate (${cert.subject}) is not a CA: basicConstraints CA:TRUE is missing`,
    );
  }
  const keyDer = publicKeyDerOf(ca.keyPem, "CA private key");
  if (!keyDer.equals(Buffer.from(cert.publicKey.rawData))) throw new KeyMismatchError();
  return { cert, signingKey: await importSigningKey(ca.keyPem, "CA private key") };
}
