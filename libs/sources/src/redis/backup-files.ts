import { join } from "node:path";
import type { Redis } from "ioredis";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { copyAof } from "./aof-copy.js";
import { bgsaveAndWait } from "./bgsave.js";
import { endpoint, type RedisConnection, withRedis } from "./connection.js";
import { sourceFailed } from "./failure.js";
import { bytesStream, openStream, readHead } from "./file-reads.js";
import { readKeyspace, readServerVersion } from "./info.js";
import { type RedisLayout, readableDataDir, readLayout } from "./layout.js";
import type { PollTiming } from "./poll.js";
import { encodeRecord, type RedisBackupRecord, SNAPSHOT_PATHS } from "./record.js";
import { pollTiming, type RedisTimingOptions } from "./timing.js";
import { rdbFormatOf } from "./version.js";

export interface RedisFileBackupOptions extends RedisTimingOptions {
  connection: RedisConnection;
  /** The data directory as this process sees it; Redis's own `dir` wins when readable here. */
  dataDir?: string;
}

/**
 * File mode: a fresh RDB from BGSAVE and, with `appendonly yes`, the whole
 * multi-part AOF, plus a record (version, key counts, file list) that the
 * restore verifies against.
 */
export async function backupRedisFiles(
  ctx: SourceBackupContext,
  options: RedisFileBackupOptions,
): Promise<SourceBackupResult> {
  const where = endpoint(options.connection);
  const timing = pollTiming(options);
  return withRedis(options.connection, async (client) => {
    const redisVersion = await readServerVersion(client);
    const layout = await readLayout(client, where);
    const dir = await readableDataDir(layout, options.dataDir);
    const keyspace = await readKeyspace(client);
    ctx.onProgress?.({ phase: "bgsave", bytesDone: 0 });
    await bgsaveAndWait(client, where, timing);
    const rdb = await copyRdb(ctx, join(dir, layout.dbfilename), where);
    const aof = layout.appendonly ? await backupAof(ctx, client, layout, dir, where, timing) : undefined;
    const record: RedisBackupRecord = { format: 1, mode: "files", redisVersion, ...keyspace, rdb };
    if (aof) record.aof = aof;
    await ctx.backup.addStream(SNAPSHOT_PATHS.record, bytesStream(encodeRecord(record)));
    ctx.onProgress?.({ phase: "done", bytesDone: rdb.bytes });
    return {
      kind: "redis",
      version: redisVersion,
      counts: keyspace.counts,
      meta: resultMeta(record, layout),
    };
  });
}

async function copyRdb(
  ctx: SourceBackupContext,
  path: string,
  where: string,
): Promise<{ format: number; bytes: number }> {
  const format = rdbFormatOf(await readHead(path, 9));
  if (format === undefined) {
    throw sourceFailed(`${path} is not an RDB file although Redis at ${where} just saved it there`);
  }
  ctx.onProgress?.({ phase: "rdb", bytesDone: 0, item: path });
  const { stream, bytes } = await openStream(path);
  await ctx.backup.addStream(SNAPSHOT_PATHS.rdb, stream);
  return { format, bytes };
}

async function backupAof(
  ctx: SourceBackupContext,
  client: Redis,
  layout: RedisLayout,
  dir: string,
  where: string,
  timing: PollTiming,
): Promise<RedisBackupRecord["aof"]> {
  ctx.onProgress?.({ phase: "aof", bytesDone: 0, item: join(dir, layout.appenddirname) });
  const { bytes: _bytes, ...aof } = await copyAof(ctx.backup, client, layout, dir, where, timing);
  return aof;
}

function resultMeta(record: RedisBackupRecord, layout: RedisLayout): Record<string, unknown> {
  return {
    mode: record.mode,
    redisVersion: record.redisVersion,
    appendonly: layout.appendonly,
    rdb: record.rdb,
    aof: record.aof ?? null,
    expires: record.expires,
  };
}
