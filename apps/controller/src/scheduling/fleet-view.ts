// One read of the hosts, policies and repositories a scheduler pass works
// from, with each host's effective policy resolved once.
import type { Catalog, Host, Policy, Repository } from "@pwdr/catalog";

type RepositoryRef = Pick<Repository, "id" | "name" | "kind">;

import { CONTROLLER_REPOSITORY_KIND } from "../fleet-storage/host-repositories.js";
import { type EffectivePolicy, effectivePolicy } from "./policy-resolution.js";

/**
 * The concurrency key of the controller's own host repositories: they are
 * separate repositories but share the controller's disk, so they share limits.
 */
export const FLEET_STORAGE_KEY = "fleet-storage";

export interface FleetHost {
  host: Host;
  policy: EffectivePolicy | undefined;
  /** Concurrency key of the repository its jobs use. */
  repositoryKey: string;
  /** Name the agent knows that repository by; empty for its repository on the controller. */
  repositoryName: string;
  /** Host.site, else the "site" label; undefined when neither is set. */
  site: string | undefined;
}

export interface FleetView {
  hosts: Map<string, FleetHost>;
  policies: Policy[];
}

function siteOf(host: Host): string | undefined {
  const label = (host.labels as Record<string, string> | null)?.site;
  return host.site ?? label ?? undefined;
}

function repositoryOf(
  policy: EffectivePolicy | undefined,
  repositories: ReadonlyMap<string, RepositoryRef>,
): { key: string; name: string } {
  const row = policy?.repositoryId ? repositories.get(policy.repositoryId) : undefined;
  if (!row || row.kind === CONTROLLER_REPOSITORY_KIND) return { key: FLEET_STORAGE_KEY, name: "" };
  return { key: row.id, name: row.name };
}

export function fleetHost(
  host: Host,
  policies: Policy[],
  repositories: ReadonlyMap<string, RepositoryRef>,
): FleetHost {
  const policy = effectivePolicy(policies, host);
  const repository = repositoryOf(policy, repositories);
  return { host, policy, repositoryKey: repository.key, repositoryName: repository.name, site: siteOf(host) };
}

/** Hosts (decommissioned ones left out unless asked for) with their policies resolved. */
export async function loadFleet(db: Catalog, where: { hostIds?: string[] } = {}): Promise<FleetView> {
  const [hosts, policies] = await Promise.all([
    db.host.findMany({
      where: {
        state: { not: "decommissioned" },
        ...(where.hostIds ? { id: { in: where.hostIds } } : {}),
      },
    }),
    db.policy.findMany(),
  ]);
  const repositories = await repositoryRefs(db, policies);
  const byId = new Map(repositories.map((r) => [r.id, r]));
  return {
    hosts: new Map(hosts.map((h) => [h.id, fleetHost(h, policies, byId)])),
    policies,
  };
}

/** The repositories policies name: a fleet has one per host on the controller, which no pass needs. */
function repositoryRefs(db: Catalog, policies: Policy[]): Promise<RepositoryRef[]> {
  const ids = [...new Set(policies.flatMap((p) => (p.repositoryId ? [p.repositoryId] : [])))];
  if (ids.length === 0) return Promise.resolve([]);
  return db.repository.findMany({ where: { id: { in: ids } }, select: { id: true, name: true, kind: true } });
}

/** One host with its policy resolved, decommissioned or not (for the API). */
export async function fleetEntryOf(db: Catalog, host: Host): Promise<FleetHost> {
  const policies = await db.policy.findMany();
  const repositories = await repositoryRefs(db, policies);
  return fleetHost(host, policies, new Map(repositories.map((r) => [r.id, r])));
}
