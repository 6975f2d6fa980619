import { createHash } from "node:crypto";
import type { X509Certificate } from "@peculiar/x509";
import { InvalidPemError } from "./errors.js";
import { errorMessage, parseCertificates } from "./pem.js";
import { x509 } from "./x509-runtime.js";

export interface CertificateDescription {
  /** RFC 4514-style, e.g. `CN=db.example, O=Acme\, Inc.` */
  subject: string;
  issuer: string;
  /** Upper-case hex, as OpenSSL and Node's X509Certificate print it. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
  /** The first CN of the subject; certificates that name themselves only in SANs have none. */
  commonName: string | null;
  /** Colon-separated upper-case hex, the format of `openssl x509 -fingerprint -sha256`. */
  fingerprintSha256: string;
  isCa: boolean;
}

/** Describes the first certificate of a PEM (the leaf, in a chain file). Any key type, with or without SAN. */
export function describeCertificate(pem: string): CertificateDescription {
  return describeCertificates(pem)[0];
}

/** Describes every certificate of a PEM bundle, in file order; blocks that are not certificates are skipped. */
export function describeCertificates(pem: string): [CertificateDescription, ...CertificateDescription[]] {
  const [first, ...rest] = parseCertificates(pem, "certificate PEM").map(describeParsed);
  return [first as CertificateDescription, ...rest];
}

function describeParsed(cert: X509Certificate, index: number): CertificateDescription {
  try {
    const altNames = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
    return {
      subject: cert.subject,
      issuer: cert.issuer,
      serialNumber: cert.serialNumber.toUpperCase(),
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      dnsNames: altNames.filter((name) => name.type === "dns").map((name) => name.value),
      ipAddresses: altNames.filter((name) => name.type === "ip").map((name) => name.value),
      commonName: cert.subjectName.getField("CN")[0] ?? null,
      fingerprintSha256: fingerprint(cert.rawData),
      isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca === true,
    };
  } catch (error) {
    // Extensions are decoded lazily, so a malformed one only surfaces here.
    throw new InvalidPemError(`certificate #${index + 1}`, errorMessage(error), error);
  }
}

function fingerprint(der: ArrayBuffer): string {
  const hex = createHash("sha256").update(new Uint8Array(der)).digest("hex").toUpperCase();
  return hex.replace(/(..)(?!$)/g, "$1:");
}
