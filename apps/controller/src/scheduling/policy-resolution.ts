// Which policy governs a host and what it inherits: pure functions over
// catalog rows, so the scheduler, the session and the API agree.
import type { Policy } from "@pwdr/catalog";
import type {
  PolicyRetention,
  PolicyScheduling,
  PolicySource,
  PolicyVerification,
} from "../policy-schema.js";

/**
 * A reserved label every host carries implicitly, set to its name: a policy
 * with the selector {"pwdr.io/host": "<name>"} governs that one host.
 */
export const HOST_SELECTOR_KEY = "pwdr.io/host";

export interface HostForPolicy {
  id: string;
  name: string;
  labels: unknown;
}

/** Where one effective value came from. */
export interface FieldOrigin {
  policyId: string;
  policyName: string;
}

/** The settings a host follows, each null or absent field filled from the parent chain. */
export interface EffectivePolicy {
  /** The policy that governs the host (most specific match); the chain starts there. */
  governing: { id: string; name: string; updatedAt: Date };
  sources: PolicySource[] | null;
  schedule: string | null;
  retention: PolicyRetention | null;
  repositoryId: string | null;
  verification: PolicyVerification;
  scheduling: PolicyScheduling;
  /** Per field ("schedule", "scheduling.window", …) the policy that set it; unset fields are absent. */
  origins: Record<string, FieldOrigin>;
}

const TOP_FIELDS = ["sources", "schedule", "retention", "repositoryId"] as const;
const NESTED_FIELDS = {
  verification: [
    "checkSchedule",
    "readDataSubset",
    "drillSchedule",
    "fleetDrillSchedule",
    "fleetDrillHost",
    "fleetDrillMode",
  ],
  scheduling: ["window", "jitter", "rpo", "retry", "pruneSchedule"],
} as const;

export function hostLabels(host: HostForPolicy): Record<string, string> {
  const labels = (host.labels ?? {}) as Record<string, string>;
  return { ...labels, [HOST_SELECTOR_KEY]: host.name };
}

/** Every pair of the selector is among the labels; {} selects every host. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  return Object.entries((selector ?? {}) as Record<string, string>).every(([k, v]) => labels[k] === v);
}

/** The policy, its parent, its grandparent, …; stops at a missing parent or a cycle. */
export function policyChain(byId: ReadonlyMap<string, Policy>, start: Policy): Policy[] {
  const chain: Policy[] = [];
  const seen = new Set<string>();
  let current: Policy | undefined = start;
  while (current && !seen.has(current.id)) {
    chain.push(current);
    seen.add(current.id);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return chain;
}

function indexById(policies: readonly Policy[]): Map<string, Policy> {
  return new Map(policies.map((p) => [p.id, p]));
}

/**
 * The enabled policy whose selector matches the host and that is most
 * specific: deepest in the parent tree, then the most selector pairs, then
 * the first name in sort order (so the choice never depends on row order).
 */
export function governingPolicy(policies: readonly Policy[], host: HostForPolicy): Policy | undefined {
  const byId = indexById(policies);
  const labels = hostLabels(host);
  const ranked = policies
    .filter((p) => p.enabled && selects(p.selector, labels))
    .map((p) => ({
      policy: p,
      depth: policyChain(byId, p).length,
      pairs: Object.keys(p.selector as object).length,
    }));
  ranked.sort((a, b) => b.depth - a.depth || b.pairs - a.pairs || (a.policy.name < b.policy.name ? -1 : 1));
  return ranked[0]?.policy;
}

/** A policy's settings with inheritance applied, starting from `policy`. */
export function resolvePolicy(policies: readonly Policy[], policy: Policy): EffectivePolicy {
  const chain = policyChain(indexById(policies), policy);
  const origins: Record<string, FieldOrigin> = {};
  const originOf = (p: Policy): FieldOrigin => ({ policyId: p.id, policyName: p.name });
  const top: Record<string, unknown> = {};
  for (const field of TOP_FIELDS) {
    const from = chain.find((p) => p[field] !== null);
    top[field] = from ? from[field] : null;
    if (from) origins[field] = originOf(from);
  }
  const nested = { verification: {}, scheduling: {} } as Record<keyof typeof NESTED_FIELDS, object>;
  for (const [group, fields] of Object.entries(NESTED_FIELDS) as [
    keyof typeof NESTED_FIELDS,
    readonly string[],
  ][]) {
    const values: Record<string, unknown> = {};
    for (const field of fields) {
      const from = chain.find((p) => valueIn(p[group], field) !== undefined);
      if (!from) continue;
      values[field] = valueIn(from[group], field);
      origins[`${group}.${field}`] = originOf(from);
    }
    nested[group] = values;
  }
  return {
    governing: { id: policy.id, name: policy.name, updatedAt: policy.updatedAt },
    sources: top.sources as PolicySource[] | null,
    schedule: top.schedule as string | null,
    retention: top.retention as PolicyRetention | null,
    repositoryId: top.repositoryId as string | null,
    verification: nested.verification as PolicyVerification,
    scheduling: nested.scheduling as PolicyScheduling,
    origins,
  };
}

function valueIn(json: unknown, field: string): unknown {
  if (json === null || typeof json !== "object") return undefined;
  const value = (json as Record<string, unknown>)[field];
  return value === null ? undefined : value;
}

/** The effective policy of a host, or undefined when no enabled policy selects it. */
export function effectivePolicy(
  policies: readonly Policy[],
  host: HostForPolicy,
): EffectivePolicy | undefined {
  const governing = governingPolicy(policies, host);
  return governing ? resolvePolicy(policies, governing) : undefined;
}
