import { createPrivateKey, X509Certificate } from "node:crypto";
import { certificateIdentity, type TlsIdentity } from "@pwdr/protocol";

/** Renew once less than this share of a certificate's validity is left. */
const RENEW_WHEN_LEFT = 1 / 3;

/** When the agent asks for a new certificate: two thirds into the current one's validity. */
export function renewalDueAt(certPem: string): Date {
  const cert = new X509Certificate(certPem);
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  return new Date(notAfter - (notAfter - notBefore) * RENEW_WHEN_LEFT);
}

export class RenewedCertificateError extends Error {
  readonly code = "renewed_certificate_invalid";
  constructor(problem: string) {
    super(`the controller's renewed certificate ${problem}; keeping the current certificate`);
    this.name = "RenewedCertificateError";
  }
}

/** Checks a renewed certificate before it replaces a working identity: our CA, our new key, our host. */
export function checkRenewedCertificate(renewed: TlsIdentity, caPem: string, hostId: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(renewed.certPem);
  } catch {
    throw new RenewedCertificateError("is not a PEM certificate");
  }
  if (!cert.verify(new X509Certificate(caPem).publicKey))
    throw new RenewedCertificateError("is not signed by the controller CA");
  if (!cert.checkPrivateKey(createPrivateKey(renewed.keyPem)))
    throw new RenewedCertificateError("is not for the key this agent generated");
  const { commonName } = certificateIdentity(cert.raw);
  if (commonName !== hostId) throw new RenewedCertificateError(`names host "${commonName}", not "${hostId}"`);
}
