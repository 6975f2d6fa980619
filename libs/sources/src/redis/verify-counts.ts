import type { Redis } from "ioredis";
import { sourceFailed } from "./failure.js";
import { readKeyspace } from "./info.js";

export interface CountCheck {
  /** `redis:db<N>` → keys expected after the restore. */
  expected: Record<string, number>;
  /** `redis:db<N>` → how many fewer keys are still right (keys with a TTL that may have expired since). */
  mayHaveExpired: Record<string, number>;
  /** Keys beyond the expected count are fine (a logical restore into a Redis that already held data). */
  allowExtra: boolean;
}

/** Compares DBSIZE per database (from INFO keyspace) with what the backup recorded. */
export async function verifyCounts(
  client: Redis,
  check: CountCheck,
  where: string,
): Promise<Record<string, number>> {
  const actual = (await readKeyspace(client)).counts;
  const names = new Set([...Object.keys(check.expected), ...(check.allowExtra ? [] : Object.keys(actual))]);
  const wrong: string[] = [];
  for (const name of [...names].sort()) {
    const want = check.expected[name] ?? 0;
    const have = actual[name] ?? 0;
    const floor = want - (check.mayHaveExpired[name] ?? 0);
    if (have < floor || (!check.allowExtra && have > want)) {
      wrong.push(`${name.slice("redis:".length)} has ${have} keys, the backup recorded ${want}`);
    }
  }
  if (wrong.length > 0) {
    throw sourceFailed(
      `Redis at ${where} does not hold the restored data: ${wrong.join("; ")}. ` +
        "Check the Redis log for what it loaded at start, and that nothing wrote to it during the restore",
    );
  }
  return actual;
}
