import { X509Certificate } from "node:crypto";

/** What the configuration source records of a certificate: public metadata only. */
export interface X509Description {
  subject: string;
  issuer: string;
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprintSha256: string;
  isCa: boolean;
}

/**
 * Describes one PEM certificate with Node's own X.509 parser: a scan of
 * configuration files needs no ASN.1 library (and its memory) in the agent.
 * Throws on anything that is not a certificate.
 */
export function describeX509(pem: string): X509Description {
  const cert = new X509Certificate(pem);
  const altNames = (cert.subjectAltName ?? "").split(", ").filter(Boolean);
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    commonName: attribute(cert.subject, "CN"),
    dnsNames: altNames.filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4)),
    ipAddresses: altNames.filter((n) => n.startsWith("IP Address:")).map((n) => n.slice(11)),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprintSha256: cert.fingerprint256,
    isCa: cert.ca,
  };
}

/** Node prints one attribute per line; records keep the familiar one-line form. */
function distinguishedName(lines: string): string {
  return lines.split("\n").filter(Boolean).join(", ");
}

function attribute(lines: string, name: string): string | null {
  const line = lines.split("\n").find((l) => l.startsWith(`${name}=`));
  return line ? line.slice(name.length + 1) : null;
}
