import { invalidArgument } from "./failure.js";

/** Where a Redis backup puts things inside its snapshot. */
export const SNAPSHOT_PATHS = {
  record: "/redis/pwdr-redis.json",
  rdb: "/redis/dump.rdb",
  aofDir: "/redis/aof",
  logical: "/redis/logical.bin",
} as const;

export interface AofRecord {
  /** `appenddirname` and `appendfilename` of the backed-up Redis. */
  dirname: string;
  appendfilename: string;
  /** The manifest's file name and the files it lists (base and incremental), all under SNAPSHOT_PATHS.aofDir. */
  manifest: string;
  files: string[];
}

/**
 * What a Redis backup wrote down about itself, stored in the snapshot as
 * SNAPSHOT_PATHS.record so that a restore needs nothing but the snapshot.
 * Never holds a secret.
 */
export interface RedisBackupRecord {
  format: 1;
  mode: "files" | "logical";
  redisVersion: string;
  /** `redis:db<N>` → keys. */
  counts: Record<string, number>;
  /** `redis:db<N>` → keys with a TTL (they may expire before a restore is verified). */
  expires: Record<string, number>;
  rdb?: { format: number; bytes: number };
  aof?: AofRecord;
}

export function encodeRecord(record: RedisBackupRecord): Buffer {
  return Buffer.from(`${JSON.stringify(record, null, 2)}\n`);
}

export function decodeRecord(bytes: Buffer, snapshotId: string): RedisBackupRecord {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw invalidArgument(`snapshot ${snapshotId}: ${SNAPSHOT_PATHS.record} is not valid JSON`);
  }
  const r = value as Partial<RedisBackupRecord> | null;
  const valid =
    r !== null &&
    typeof r === "object" &&
    r.format === 1 &&
    (r.mode === "files" || r.mode === "logical") &&
    typeof r.redisVersion === "string" &&
    isCountMap(r.counts) &&
    isCountMap(r.expires);
  if (!valid) {
    throw invalidArgument(
      `snapshot ${snapshotId}: ${SNAPSHOT_PATHS.record} is not a Redis backup record this version understands`,
    );
  }
  return r as RedisBackupRecord;
}

function isCountMap(value: unknown): value is Record<string, number> {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.entries(value).every(([k, v]) => /^redis:db\d+$/.test(k) && Number.isInteger(v) && v >= 0)
  );
}
