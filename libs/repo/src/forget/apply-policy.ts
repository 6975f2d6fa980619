import { formatDuration } from "./format-duration.js";
import { BUCKET_RULES, type RetentionPolicy, validatePolicy } from "./retention-policy.js";
import { type BucketRule, bucketOf } from "./time-buckets.js";

/** What a policy needs to know of a snapshot. */
export interface Dated {
  id: string;
  time: string;
  tags: readonly string[];
}

export interface KeepDecision<S extends Dated> {
  snapshot: S;
  keep: boolean;
  /** Every rule that keeps it ("last snapshot", "daily snapshot", "within 7d", "tagged keep"); empty when forgotten. */
  reasons: string[];
}

/**
 * Applies a retention policy to one group of snapshots, with restic's
 * semantics: going from newest to oldest, `keepLast` keeps the first n; each
 * calendar rule keeps the newest snapshot of each period (UTC, see
 * time-buckets.ts) until it has kept n periods, skipping periods without
 * snapshots; `keepWithin` is measured back from the group's newest snapshot,
 * not from now, so an idle host never loses its last backups. Of two
 * snapshots with the same time, the one with the smaller id counts as newer.
 * A snapshot whose time cannot be read is kept. Pure: no clock, no I/O.
 * Returns decisions newest first.
 */
export function applyPolicy<S extends Dated>(
  snapshots: readonly S[],
  policy: RetentionPolicy,
): KeepDecision<S>[] {
  validatePolicy(policy);
  const dated = snapshots
    .map((snapshot) => ({ snapshot, t: Date.parse(snapshot.time) }))
    .sort((a, b) => order(a.t, b.t) || a.snapshot.id.localeCompare(b.snapshot.id));
  const newest = dated.find((d) => !Number.isNaN(d.t))?.t ?? 0;
  let last = policy.keepLast ?? 0;
  const left = new Map(BUCKET_RULES.map(([rule, key]) => [rule, policy[key] ?? 0]));
  const lastBucket = new Map<BucketRule, string>();

  return dated.map(({ snapshot, t }) => {
    if (Number.isNaN(t)) return { snapshot, keep: true, reasons: ["time cannot be read"] };
    const reasons: string[] = [];
    if (last > 0) {
      last--;
      reasons.push("last snapshot");
    }
    for (const [rule] of BUCKET_RULES) {
      const n = left.get(rule) ?? 0;
      const bucket = bucketOf(rule, new Date(t));
      if (n === 0 || bucket === lastBucket.get(rule)) continue;
      left.set(rule, n - 1);
      lastBucket.set(rule, bucket);
      reasons.push(`${rule} snapshot`);
    }
    if (policy.keepWithin && t > newest - policy.keepWithin) {
      reasons.push(`within ${formatDuration(policy.keepWithin)}`);
    }
    for (const tag of policy.keepTags ?? []) if (snapshot.tags.includes(tag)) reasons.push(`tagged ${tag}`);
    return { snapshot, keep: reasons.length > 0, reasons };
  });
}

/** Newest first; unreadable times (NaN) last. */
function order(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number(Number.isNaN(a)) - Number(Number.isNaN(b));
  return b - a;
}
