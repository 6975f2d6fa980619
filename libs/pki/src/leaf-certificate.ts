import type { webcrypto } from "node:crypto";
import type {
  AuthorityKeyIdentifierExtension,
  Extension,
  JsonGeneralNames,
  PublicKey,
  X509Certificate,
} from "@peculiar/x509";
import type { Issuer } from "./certificate-authority.js";
import { subjectName, validityPeriod } from "./certificate-fields.js";
import { SIGNING_ALGORITHM } from "./keys.js";
import { x509 } from "./x509-runtime.js";

export interface LeafCertificateRequest {
  publicKey: webcrypto.CryptoKey | PublicKey;
  commonName: string;
  validityDays: number;
  serialNumber: string;
  /** OID of the single purpose the certificate is for (serverAuth or clientAuth). */
  extendedKeyUsage: string;
  subjectAltNames?: JsonGeneralNames;
}

/** An end-entity certificate: not a CA, signature use only, one purpose. */
export async function issueLeafCertificate(
  issuer: Issuer,
  request: LeafCertificateRequest,
): Promise<X509Certificate> {
  const extensions: Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([request.extendedKeyUsage]),
    await x509.SubjectKeyIdentifierExtension.create(request.publicKey),
    await authorityKeyIdentifier(issuer.cert),
  ];
  if (request.subjectAltNames)
    extensions.push(new x509.SubjectAlternativeNameExtension(request.subjectAltNames));
  return x509.X509CertificateGenerator.create({
    serialNumber: request.serialNumber,
    subject: subjectName(request.commonName),
    issuer: issuer.cert.subjectName,
    ...validityPeriod(request.validityDays),
    publicKey: request.publicKey,
    signingKey: issuer.signingKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
}

/** Reuses the CA's own key identifier, so chain builders match it even if the CA computed it differently. */
async function authorityKeyIdentifier(caCert: X509Certificate): Promise<AuthorityKeyIdentifierExtension> {
  const keyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  return keyId
    ? new x509.AuthorityKeyIdentifierExtension(keyId)
    : x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey);
}
