import type { Catalog } from "@pwdr/catalog";
import { CERTIFICATE_REVOKED } from "./agent-certificates.js";
import type { SessionRegistry } from "./session-registry.js";

export interface HostRevocation {
  hostId: string;
  /** Certificates this call revoked; 0 when the host was revoked already. */
  revokedCertificates: number;
  /** Whether this controller held the host's stream and ended it. */
  sessionClosed: boolean;
}

export class HostNotFoundError extends Error {
  constructor(readonly hostId: string) {
    super(`no host with id "${hostId}"`);
    this.name = "HostNotFoundError";
  }
}

/**
 * Revokes every certificate of a host and ends its open stream at once. The catalog
 * is written first: a stream that reconnects in between is refused at its start.
 */
export async function revokeHost(
  deps: { db: Catalog; sessions: SessionRegistry },
  hostId: string,
): Promise<HostRevocation> {
  const host = await deps.db.host.findUnique({ where: { id: hostId }, select: { id: true } });
  if (!host) throw new HostNotFoundError(hostId);
  const revoked = await deps.db.agentCertificate.updateMany({
    where: { hostId, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  const sessionClosed = deps.sessions.closeHost(hostId, CERTIFICATE_REVOKED.code, CERTIFICATE_REVOKED.reason);
  return { hostId, revokedCertificates: revoked.count, sessionClosed };
}

/** A host is revoked once it has certificates and none of them is usable any more. */
export function revokedAtOf(certificates: { revokedAt: Date | null }[]): Date | null {
  if (certificates.length === 0) return null;
  let latest: Date | null = null;
  for (const { revokedAt } of certificates) {
    if (!revokedAt) return null;
    if (!latest || revokedAt > latest) latest = revokedAt;
  }
  return latest;
}
