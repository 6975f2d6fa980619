import type { Redis } from "ioredis";

export type InfoFields = Map<string, string>;

/** INFO's "field:value" lines; section headers and blank lines are skipped. */
export function parseInfo(text: string): InfoFields {
  const fields: InfoFields = new Map();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (line.startsWith("#") || colon <= 0) continue;
    fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

export async function readInfo(client: Redis, section: string): Promise<InfoFields> {
  return parseInfo(await client.info(section));
}

export function infoNumber(fields: InfoFields, name: string): number | undefined {
  const raw = fields.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Keys and keys-with-a-TTL per database, as `redis:db<N>` → count. */
export interface KeyspaceCounts {
  counts: Record<string, number>;
  expires: Record<string, number>;
}

/** From INFO keyspace: "db3:keys=12,expires=2,avg_ttl=0". Databases without keys are not listed by Redis. */
export function keyspaceCounts(fields: InfoFields): KeyspaceCounts {
  const result: KeyspaceCounts = { counts: {}, expires: {} };
  for (const [name, value] of fields) {
    if (!/^db\d+$/.test(name)) continue;
    const parts = new Map(value.split(",").map((kv) => kv.split("=") as [string, string]));
    result.counts[`redis:${name}`] = Number(parts.get("keys") ?? 0);
    result.expires[`redis:${name}`] = Number(parts.get("expires") ?? 0);
  }
  return result;
}

export async function readKeyspace(client: Redis): Promise<KeyspaceCounts> {
  return keyspaceCounts(await readInfo(client, "keyspace"));
}

export async function readServerVersion(client: Redis): Promise<string> {
  return (await readInfo(client, "server")).get("redis_version") ?? "unknown";
}
