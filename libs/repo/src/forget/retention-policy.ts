import { RepoError } from "../errors.js";
import type { BucketRule } from "./time-buckets.js";

/**
 * Which snapshots `forget` keeps in each group (restic's --keep-* options).
 * Counts are numbers of snapshots (`keepLast`) or of calendar periods that
 * have a snapshot (the others); a snapshot is kept when any rule keeps it.
 */
export interface RetentionPolicy {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  /** Keeps every snapshot taken less than this many milliseconds before the group's newest one. */
  keepWithin?: number;
  /** Keeps every snapshot carrying any of these tags. */
  keepTags?: string[];
}

type CountRule = "keepLast" | "keepHourly" | "keepDaily" | "keepWeekly" | "keepMonthly" | "keepYearly";

export const BUCKET_RULES: readonly [BucketRule, CountRule][] = [
  ["hourly", "keepHourly"],
  ["daily", "keepDaily"],
  ["weekly", "keepWeekly"],
  ["monthly", "keepMonthly"],
  ["yearly", "keepYearly"],
];

const COUNTS: readonly CountRule[] = ["keepLast", ...BUCKET_RULES.map(([, key]) => key)];

/**
 * Refuses a policy that is malformed or keeps nothing: applied, an empty
 * policy would forget every snapshot, which is never what was meant.
 */
export function validatePolicy(policy: RetentionPolicy): void {
  for (const key of COUNTS) {
    const n = policy[key];
    if (n !== undefined && !(Number.isSafeInteger(n) && n >= 0)) {
      throw new RepoError("invalid_argument", `${key} must be a whole number of at least 0, not ${n}`);
    }
  }
  const within = policy.keepWithin;
  if (within !== undefined && !(Number.isFinite(within) && within >= 0)) {
    throw new RepoError("invalid_argument", `keepWithin must be a duration of at least 0 ms, not ${within}`);
  }
  const empty =
    COUNTS.every((key) => !policy[key]) && !policy.keepWithin && (policy.keepTags ?? []).length === 0;
  if (empty) {
    throw new RepoError(
      "invalid_argument",
      "refusing to forget with an empty policy: it would remove every snapshot; give at least one keep rule (last, hourly, daily, weekly, monthly, yearly, within or tag)",
    );
  }
}
