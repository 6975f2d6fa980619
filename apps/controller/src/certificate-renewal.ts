import type { Catalog } from "@pwdr/catalog";
import { type SignedAgentCertificate, signAgentCertificate } from "./agent-certificate-signing.js";
import {
  CERTIFICATE_REVOKED,
  type CertificateRefusal,
  checkAgentCertificate,
  isRefusal,
} from "./agent-certificates.js";
import { recordAuditEvent } from "./audit-log.js";
import type { ControllerPki } from "./controller-pki.js";

export interface RenewalDeps {
  db: Catalog;
  pki: ControllerPki;
  certificateValidityMs: number;
}

/** The certificate a session was opened with: renewal is for its host only. */
export interface RenewingPeer {
  hostId: string;
  fingerprintSha256: string;
}

/**
 * Signs a new certificate for the host of a still valid, unrevoked certificate and records it.
 * Returns a refusal when the presenting certificate is no longer trusted; a bad CSR throws RpcError.
 */
export async function renewAgentCertificate(
  deps: RenewalDeps,
  peer: RenewingPeer,
  csrPem: string,
): Promise<SignedAgentCertificate | CertificateRefusal> {
  const check = await checkAgentCertificate(deps.db, peer.fingerprintSha256);
  if (isRefusal(check)) return check;
  const signed = await signAgentCertificate(deps.pki, peer.hostId, csrPem, deps.certificateValidityMs);
  const row = await deps.db.agentCertificate.create({
    data: {
      hostId: peer.hostId,
      serial: signed.serialNumber,
      fingerprintSha256: signed.fingerprintSha256,
      notAfter: signed.notAfter,
    },
  });
  if (await revokedMeanwhile(deps.db, peer.fingerprintSha256)) {
    await deps.db.agentCertificate.update({ where: { id: row.id }, data: { revokedAt: new Date() } });
    return CERTIFICATE_REVOKED;
  }
  await recordAuditEvent(deps.db, {
    actor: `agent:${peer.hostId}`,
    action: "host.certificate.renew",
    target: `host:${peer.hostId}`,
    details: { outcome: "success", serial: signed.serialNumber, notAfter: signed.notAfter.toISOString() },
  });
  return signed;
}

// A revocation revokes every certificate the host has at that moment. One that ran
// between the check above and the insert would miss the new row; seen here, the new
// certificate is revoked too, so a renewal can never outlive a revocation.
async function revokedMeanwhile(db: Catalog, fingerprintSha256: string): Promise<boolean> {
  const presenting = await db.agentCertificate.findUnique({ where: { fingerprintSha256 } });
  return presenting?.revokedAt != null;
}
