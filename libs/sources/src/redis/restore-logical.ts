import { PassThrough } from "node:stream";
import { dumpFile } from "@pwdr/repo";
import type { Redis } from "ioredis";
import type { SourceRestoreContext } from "../source.js";
import { endpoint, type RedisConnection, withRedis } from "./connection.js";
import { invalidArgument, redisFailure } from "./failure.js";
import { readServerVersion } from "./info.js";
import { type LogicalFrame, readLogicalFrames } from "./logical-format.js";
import { SNAPSHOT_PATHS } from "./record.js";
import type { RedisRestoreResult } from "./restore-files.js";
import { loadRedisSnapshot } from "./snapshot-read.js";
import { verifyCounts } from "./verify-counts.js";
import { assertRestorable } from "./version.js";

export interface RedisLogicalRestoreOptions {
  connection: RedisConnection;
  /** RESTOREs per pipeline round trip. Default 256. */
  batchSize?: number;
}

type KeyFrame = Extract<LogicalFrame, { kind: "key" }>;

/**
 * Logical restore into a running Redis: RESTORE … REPLACE ABSTTL per key,
 * so each key keeps its original deadline; keys whose deadline passed are
 * skipped. Other keys already in the target are left alone, so the check
 * afterwards is "at least what was restored" per database.
 */
export async function restoreRedisLogical(
  ctx: SourceRestoreContext,
  options: RedisLogicalRestoreOptions,
): Promise<RedisRestoreResult> {
  const where = endpoint(options.connection);
  const { snapshot, record } = await loadRedisSnapshot(ctx.repo, ctx.snapshotId);
  if (record.mode !== "logical") {
    throw invalidArgument(
      `snapshot ${ctx.snapshotId} is a file-mode Redis backup; restore it with restoreRedisFiles`,
    );
  }
  return withRedis(options.connection, async (client) => {
    assertRestorable(record.redisVersion, await readServerVersion(client), undefined);
    const source = new PassThrough();
    const dumping = dumpFile(ctx.repo, snapshot, SNAPSHOT_PATHS.logical, source).then(
      () => source.end(),
      (err: unknown) => source.destroy(err as Error),
    );
    const restored = await restoreFrames(client, readLogicalFrames(source), options.batchSize ?? 256, where);
    await dumping;
    await client.select(0);
    const counts = await verifyCounts(
      client,
      { expected: restored, mayHaveExpired: {}, allowExtra: true },
      where,
    );
    return { counts, aof: "not-applicable", removed: [] };
  });
}

/** Returns `redis:db<N>` → keys restored (expired ones not counted). */
async function restoreFrames(
  client: Redis,
  frames: AsyncIterable<LogicalFrame>,
  batchSize: number,
  where: string,
): Promise<Record<string, number>> {
  const restored: Record<string, number> = {};
  let db = 0;
  let batch: KeyFrame[] = [];
  let seen = 0;
  for await (const frame of frames) {
    if (frame.kind === "key") {
      seen++;
      if (frame.expireAt !== 0 && frame.expireAt <= Date.now()) continue;
      batch.push(frame);
      if (batch.length >= batchSize) batch = await flush(client, batch, db, where);
      restored[`redis:db${db}`] = (restored[`redis:db${db}`] ?? 0) + 1;
    } else if (frame.kind === "select") {
      batch = await flush(client, batch, db, where);
      db = frame.db;
      await client.select(db);
      restored[`redis:db${db}`] ??= 0;
    } else if (frame.keys !== seen) {
      throw invalidArgument(
        `the logical Redis dump says it holds ${frame.keys} keys but has ${seen}; it is damaged`,
      );
    }
  }
  await flush(client, batch, db, where);
  return restored;
}

async function flush(
  client: Redis,
  batch: readonly KeyFrame[],
  db: number,
  where: string,
): Promise<KeyFrame[]> {
  if (batch.length === 0) return [];
  const pipeline = client.pipeline();
  for (const { key, expireAt, payload } of batch) {
    if (expireAt === 0) pipeline.restore(key, 0, payload, "REPLACE");
    else pipeline.restore(key, expireAt, payload, "REPLACE", "ABSTTL");
  }
  const replies = (await pipeline.exec()) ?? [];
  const failed = replies.findIndex(([err]) => err);
  if (failed >= 0) {
    const err = replies[failed]?.[0];
    const key = printable(batch[failed]?.key);
    throw redisFailure(`RESTORE of key ${key} in db${db} on Redis at ${where} failed`, err);
  }
  return [];
}

function printable(key: Buffer | undefined): string {
  const text = key?.toString("utf8") ?? "?";
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
