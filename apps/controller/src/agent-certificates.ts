import * as grpc from "@grpc/grpc-js";
import type { Catalog } from "@pwdr/catalog";

/** Why the controller stops trusting a certificate; the status tells the agent whether to retry. */
export interface CertificateRefusal {
  code: grpc.status;
  reason: string;
}

export interface TrustedCertificate {
  hostId: string;
  notAfter: Date;
}

const REENROLL = "enroll the agent again with a new token (`pwdr-agent enroll`)";

export const CERTIFICATE_REVOKED: CertificateRefusal = {
  code: grpc.status.PERMISSION_DENIED,
  reason: `agent certificate revoked; ${REENROLL}`,
};

/** The catalog fields a certificate is judged on. */
export interface CertificateRecord {
  hostId: string;
  notAfter: Date;
  revokedAt: Date | null;
  host: { state: string };
}

/** What the catalog says of a certificate: trusted, or why not (null: not in the catalog). */
export function judgeCertificate(
  cert: CertificateRecord | null,
  now = new Date(),
): TrustedCertificate | CertificateRefusal {
  if (!cert) return { code: grpc.status.UNAUTHENTICATED, reason: `unknown agent certificate; ${REENROLL}` };
  if (cert.revokedAt) return CERTIFICATE_REVOKED;
  if (cert.notAfter.getTime() <= now.getTime())
    return { code: grpc.status.UNAUTHENTICATED, reason: `agent certificate expired; ${REENROLL}` };
  if (cert.host.state === "decommissioned") {
    return {
      code: grpc.status.PERMISSION_DENIED,
      reason: "the host is decommissioned; its agent may not connect",
    };
  }
  return { hostId: cert.hostId, notAfter: cert.notAfter };
}

/**
 * Looks a client certificate up in the catalog. TLS only proved the CA signed it;
 * revocation and expiry live here, so every check of an agent goes through this.
 */
export async function checkAgentCertificate(
  db: Catalog,
  fingerprintSha256: string,
  now = new Date(),
): Promise<TrustedCertificate | CertificateRefusal> {
  const cert = await db.agentCertificate.findUnique({
    where: { fingerprintSha256 },
    include: { host: { select: { state: true } } },
  });
  return judgeCertificate(cert, now);
}

export function isRefusal<T extends object>(check: T | CertificateRefusal): check is CertificateRefusal {
  return "reason" in check && "code" in check;
}
