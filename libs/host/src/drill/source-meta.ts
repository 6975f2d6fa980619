import { loadSnapshot, type Repository } from "@pwdr/repo";
import type { RecoveryPoint } from "../recovery-point/recovery-point.js";
import type { RedisRecord } from "./sandbox-redis.js";

/** The snapshot meta of each server source, by source name: table lists, Redis persistence. */
export type SourceMeta = ReadonlyMap<string, Record<string, unknown>>;

export async function loadSourceMeta(repo: Repository, point: RecoveryPoint): Promise<SourceMeta> {
  const meta = new Map<string, Record<string, unknown>>();
  for (const source of point.sources) {
    if (source.status !== "ok" || !source.snapshotId) continue;
    if (source.kind !== "postgres" && source.kind !== "redis") continue;
    meta.set(source.name, (await loadSnapshot(repo, source.snapshotId)).meta ?? {});
  }
  return meta;
}

/** What the sandbox Redis of each Redis source must look like: version, persistence and AOF names as backed up. */
export function redisRecordsOf(point: RecoveryPoint, meta: SourceMeta): Map<string, RedisRecord> {
  const records = new Map<string, RedisRecord>();
  for (const source of point.sources.filter((s) => s.kind === "redis" && s.status === "ok")) {
    const m = meta.get(source.name) ?? {};
    const aof = m.aof as RedisRecord["aof"] | null | undefined;
    records.set(source.name, {
      version: source.version ?? (typeof m.redisVersion === "string" ? m.redisVersion : ""),
      ...(typeof m.appendonly === "boolean" ? { appendonly: m.appendonly } : {}),
      ...(aof ? { aof: { dirname: aof.dirname, appendfilename: aof.appendfilename } } : {}),
    });
  }
  return records;
}
