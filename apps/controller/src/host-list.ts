import type { Catalog } from "@pwdr/catalog";
import { revokedAtOf } from "./host-revocation.js";
import { renderTable } from "./table.js";

export interface HostSummary {
  id: string;
  name: string;
  state: string;
  agentVersion: string | null;
  lastSeenAt: string | null;
  /** When an operator revoked the host's certificates; null while it may connect. */
  revokedAt: string | null;
}

export async function listHosts(db: Catalog): Promise<HostSummary[]> {
  const hosts = await db.host.findMany({
    orderBy: { name: "asc" },
    include: { certificates: { select: { revokedAt: true } } },
  });
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    state: h.state,
    agentVersion: h.agentVersion,
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
    revokedAt: revokedAtOf(h.certificates)?.toISOString() ?? null,
  }));
}

export function renderHostTable(hosts: HostSummary[]): string {
  if (hosts.length === 0)
    return "no hosts enrolled yet; create a token with `pwdr-controller token create`\n";
  return renderTable(
    ["NAME", "STATE", "REVOKED", "AGENT", "LAST SEEN", "ID"],
    hosts.map((h) => [
      h.name,
      h.state,
      h.revokedAt ?? "-",
      h.agentVersion ?? "-",
      h.lastSeenAt ?? "never",
      h.id,
    ]),
  );
}
