import { redisConnection } from "../definition/connections.js";
import type { RedisSourceDefinition } from "../definition/host-definition.js";
import type { SourceOutcome } from "../recovery-point/recovery-point.js";
import type { DrillAssertion } from "./drill-result.js";

/**
 * Keys per database in the sandbox against the recovery point's counts.
 * Keys with a TTL may expire between backup and drill, so a database may
 * hold up to that many keys fewer than recorded (the snapshot's `expires`).
 */
export async function checkRedis(
  outcome: SourceOutcome,
  meta: Record<string, unknown>,
  sandbox: RedisSourceDefinition,
): Promise<DrillAssertion[]> {
  const expected = outcome.counts ?? {};
  const expiring = (meta.expires ?? {}) as Record<string, number>;
  const actual = await keyCounts(sandbox);
  const databases = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return databases.map((db) => {
    const want = expected[db] ?? 0;
    const got = actual[db] ?? 0;
    const passed = got <= want && got >= want - (expiring[db] ?? 0);
    return { check: `keys in ${db}`, expected: want, actual: got, passed };
  });
}

async function keyCounts(sandbox: RedisSourceDefinition): Promise<Record<string, number>> {
  const { host, port, password } = await redisConnection(sandbox);
  const { Redis } = await import("ioredis");
  const client = new Redis({
    host,
    port,
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return parseKeyspace(await client.info("keyspace"));
  } finally {
    client.disconnect();
  }
}

/** "db0:keys=52,expires=1,avg_ttl=0" → { "redis:db0": 52 }. */
function parseKeyspace(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^db(\d+):keys=(\d+)/gm))
    counts[`redis:db${match[1]}`] = Number(match[2]);
  return counts;
}
