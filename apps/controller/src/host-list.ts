import type { Catalog } from "@pwdr/catalog";
import { renderTable } from "./table.js";

export interface HostSummary {
  id: string;
  name: string;
  state: string;
  agentVersion: string | null;
  lastSeenAt: string | null;
}

export async function listHosts(db: Catalog): Promise<HostSummary[]> {
  const hosts = await db.host.findMany({ orderBy: { name: "asc" } });
  return hosts.map((h) => ({
    id: h.id,
    name: h.name,
    state: h.state,
    agentVersion: h.agentVersion,
    lastSeenAt: h.lastSeenAt?.toISOString() ?? null,
  }));
}

export function renderHostTable(hosts: HostSummary[]): string {
  if (hosts.length === 0)
    return "no hosts enrolled yet; create a token with `pwdr-controller token create`\n";
  return renderTable(
    ["NAME", "STATE", "AGENT", "LAST SEEN", "ID"],
    hosts.map((h) => [h.name, h.state, h.agentVersion ?? "-", h.lastSeenAt ?? "never", h.id]),
  );
}
