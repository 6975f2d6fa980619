import type { Catalog } from "@pwdr/catalog";

export type AgentCertificateCheck = { hostId: string } | { refused: string };

/**
 * Matches a TLS-verified client certificate against the catalog: the CA
 * signing it is not enough, it must be a certificate this controller issued
 * and has not revoked, of a host still in service.
 */
export async function checkAgentCertificate(
  db: Catalog,
  fingerprintSha256: string,
): Promise<AgentCertificateCheck> {
  const cert = await db.agentCertificate.findUnique({
    where: { fingerprintSha256 },
    include: { host: { select: { state: true } } },
  });
  if (!cert) return { refused: "unknown agent certificate; enroll the agent again" };
  if (cert.revokedAt) return { refused: "agent certificate was revoked; enroll the agent again" };
  if (cert.notAfter.getTime() <= Date.now())
    return { refused: "agent certificate expired; enroll the agent again" };
  if (cert.host.state === "decommissioned") return { refused: "host is decommissioned" };
  return { hostId: cert.hostId };
}
