import type { Redis } from "ioredis";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { endpoint, type RedisConnection, withRedis } from "./connection.js";
import { redisFailure } from "./failure.js";
import { bytesStream } from "./file-reads.js";
import { readKeyspace, readServerVersion } from "./info.js";
import { endFrame, keyFrame, LOGICAL_MAGIC, selectFrame } from "./logical-format.js";
import { encodeRecord, type RedisBackupRecord, SNAPSHOT_PATHS } from "./record.js";

export interface RedisLogicalBackupOptions {
  connection: RedisConnection;
  /** Keys asked for per SCAN and dumped per pipeline round trip. Default 500. */
  batchSize?: number;
}

/**
 * Logical mode, for when the data directory is out of reach: every key of
 * every non-empty database over the wire (SCAN, then DUMP + PTTL pipelined),
 * into SNAPSHOT_PATHS.logical (format in logical-format.ts). Not a
 * point-in-time copy: keys written during the scan may or may not be in it.
 */
export async function backupRedisLogical(
  ctx: SourceBackupContext,
  options: RedisLogicalBackupOptions,
): Promise<SourceBackupResult> {
  const where = endpoint(options.connection);
  return withRedis(options.connection, async (client) => {
    const redisVersion = await readServerVersion(client);
    const before = await readKeyspace(client);
    const dbs = Object.keys(before.counts).map((name) => Number(name.slice("redis:db".length)));
    const tally = { counts: {} as Record<string, number>, expires: {} as Record<string, number>, bytes: 0 };
    const stream = dumpAll(
      client,
      dbs.sort((a, b) => a - b),
      options.batchSize ?? 500,
      tally,
      where,
    );
    await ctx.backup.addStream(SNAPSHOT_PATHS.logical, stream);
    const record: RedisBackupRecord = {
      format: 1,
      mode: "logical",
      redisVersion,
      counts: tally.counts,
      expires: tally.expires,
    };
    await ctx.backup.addStream(SNAPSHOT_PATHS.record, bytesStream(encodeRecord(record)));
    ctx.onProgress?.({ phase: "done", bytesDone: tally.bytes });
    return {
      kind: "redis",
      version: redisVersion,
      counts: tally.counts,
      meta: { mode: "logical", redisVersion },
    };
  });
}

interface Tally {
  counts: Record<string, number>;
  expires: Record<string, number>;
  bytes: number;
}

async function* dumpAll(
  client: Redis,
  dbs: readonly number[],
  batchSize: number,
  tally: Tally,
  where: string,
): AsyncGenerator<Buffer> {
  yield LOGICAL_MAGIC;
  let total = 0;
  for (const db of dbs) {
    await client.select(db);
    yield selectFrame(db);
    const name = `redis:db${db}`;
    tally.counts[name] = 0;
    tally.expires[name] = 0;
    for await (const frame of dumpDb(client, batchSize, where, db)) {
      tally.counts[name]++;
      if (frame.expiring) tally.expires[name]++;
      tally.bytes += frame.bytes.length;
      total++;
      yield frame.bytes;
    }
  }
  yield endFrame(total);
}

/**
 * SCAN may return a key more than once, so keys already dumped are
 * remembered (one Set per database: memory grows with the key count).
 */
async function* dumpDb(
  client: Redis,
  batchSize: number,
  where: string,
  db: number,
): AsyncGenerator<{ bytes: Buffer; expiring: boolean }> {
  const seen = new Set<string>();
  let cursor = "0";
  do {
    const [next, keys] = await client.scanBuffer(cursor, "COUNT", batchSize);
    cursor = next.toString();
    const fresh = keys.filter((k) => !seen.has(k.toString("latin1")));
    for (const k of fresh) seen.add(k.toString("latin1"));
    yield* dumpBatch(client, fresh, where, db);
  } while (cursor !== "0");
}

async function* dumpBatch(
  client: Redis,
  keys: readonly Buffer[],
  where: string,
  db: number,
): AsyncGenerator<{ bytes: Buffer; expiring: boolean }> {
  if (keys.length === 0) return;
  const pipeline = client.pipeline();
  for (const key of keys) pipeline.dumpBuffer(key).pttl(key);
  const replies = (await pipeline.exec()) ?? [];
  const now = Date.now();
  for (const [i, key] of keys.entries()) {
    const [dumpErr, payload] = replies[2 * i] ?? [];
    const [ttlErr, pttl] = replies[2 * i + 1] ?? [];
    const err = dumpErr ?? ttlErr;
    if (err) throw redisFailure(`DUMP of a key in db${db} on Redis at ${where} failed`, err);
    // Deleted or expired between SCAN and DUMP: it is simply not in the backup.
    if (!Buffer.isBuffer(payload) || pttl === -2) continue;
    const ttl = Number(pttl);
    const expireAt = ttl >= 0 ? now + Math.max(ttl, 1) : 0;
    yield { bytes: keyFrame(key, expireAt, payload), expiring: expireAt !== 0 };
  }
}
