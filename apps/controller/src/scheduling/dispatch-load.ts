// Counting jobs in flight against the concurrency limits.
import type { FleetHost } from "./fleet-view.js";

export interface ConcurrencyLimits {
  /** Jobs dispatched or running at once on one repository (the controller's host repositories count as one). */
  perRepository: number;
  /** Jobs dispatched or running at once on the hosts of one site. */
  perSite: number;
}

export const DEFAULT_LIMITS: ConcurrencyLimits = { perRepository: 4, perSite: 8 };

/**
 * Jobs in flight per repository, per site and per host. A host runs one job at
 * a time (an agent queues the rest), so a second job for it would hold a
 * repository slot without using it.
 */
export class DispatchLoad {
  readonly #repositories = new Map<string, number>();
  readonly #sites = new Map<string, number>();
  readonly #hosts = new Set<string>();

  constructor(private readonly limits: ConcurrencyLimits) {}

  add(entry: FleetHost): void {
    bump(this.#repositories, entry.repositoryKey);
    if (entry.site !== undefined) bump(this.#sites, entry.site);
    this.#hosts.add(entry.host.id);
  }

  /** Why the host cannot take a job now, or undefined when it can. */
  blocker(entry: FleetHost): string | undefined {
    if (this.#hosts.has(entry.host.id)) return "host busy";
    if ((this.#repositories.get(entry.repositoryKey) ?? 0) >= this.limits.perRepository)
      return "repository limit";
    if (entry.site !== undefined && (this.#sites.get(entry.site) ?? 0) >= this.limits.perSite)
      return "site limit";
    return undefined;
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
