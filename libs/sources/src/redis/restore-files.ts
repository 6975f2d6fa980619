import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { RepoError } from "@pwdr/repo";
import type { SourceRestoreContext } from "../source.js";
import { endpoint, type RedisConnection, withRedis } from "./connection.js";
import { installStaged, putBack, type SetAside, setAsideStrays, stageFiles } from "./data-dir.js";
import { invalidArgument, sourceFailed } from "./failure.js";
import { readHead } from "./file-reads.js";
import type { PollTiming } from "./poll.js";
import type { RedisBackupRecord } from "./record.js";
import { type AofHandling, planRestore, type RestorePlan } from "./restore-plan.js";
import { loadRedisSnapshot } from "./snapshot-read.js";
import { assertAofNamesMatch, assertTargetMatches, readTarget } from "./target.js";
import { pollTiming, type RedisTimingOptions } from "./timing.js";
import { verifyCounts } from "./verify-counts.js";
import { assertRestorable, rdbFormatOf } from "./version.js";
import { waitUntilLoaded } from "./wait-loaded.js";

export interface RedisFileRestoreOptions extends RedisTimingOptions {
  /** Redis's data directory (its `dir`) as this process sees it. */
  dataDir: string;
  /**
   * The target's persistence mode; must match its running config (checked
   * before anything is stopped). The running config's when omitted.
   */
  appendonly?: boolean;
  /** The host's configured way to stop Redis; resolves once it has exited. */
  stop(): Promise<void>;
  /** The host's configured way to start Redis again. */
  start(): Promise<void>;
  connection: RedisConnection;
}

export interface RedisRestoreResult {
  /** `redis:db<N>` → keys after the restore. */
  counts: Record<string, number>;
  aof: AofHandling | "not-applicable";
  /** Files taken out of the data dir before installing (names only); discarded once verified. */
  removed: string[];
}

/**
 * File-mode restore. Everything that can refuse does so while Redis still
 * runs: the snapshot is read, versions and settings are checked, and files
 * are staged in the data dir. Only then: stop, set stray RDB/AOF files
 * aside, rename into place, start, wait for the load, verify key counts; a
 * failure in these steps puts the previous files back and starts Redis.
 */
export async function restoreRedisFiles(
  ctx: SourceRestoreContext,
  options: RedisFileRestoreOptions,
): Promise<RedisRestoreResult> {
  const where = endpoint(options.connection);
  const timing = pollTiming(options);
  const { snapshot, record } = await loadRedisSnapshot(ctx.repo, ctx.snapshotId);
  if (record.mode !== "files") {
    throw invalidArgument(
      `snapshot ${ctx.snapshotId} is a logical Redis backup; restore it with restoreRedisLogical`,
    );
  }
  const target = await withRedis(options.connection, (client) => readTarget(client, where));
  assertRestorable(record.redisVersion, target.version, record.rdb?.format);
  const appendonly = options.appendonly ?? target.layout.appendonly;
  await assertTargetMatches(target, { dataDir: options.dataDir, appendonly }, where);
  const plan = planRestore(record, target.layout, appendonly);
  if (plan.aof === "restored") assertAofNamesMatch(record.aof?.appendfilename, target.layout, where);
  ctx.onProgress?.({ phase: "stage", bytesDone: 0 });
  const staging = await stageFiles(ctx.repo, snapshot, plan, options.dataDir);
  try {
    await checkStagedRdb(staging, plan, target.version, target.layout.dbfilename);
    const swap: Swap = {
      ctx,
      options,
      appendonly,
      staging,
      plan,
      appenddirname: target.layout.appenddirname,
      timing,
    };
    return await swapAndVerify(swap, record);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

interface Swap {
  ctx: SourceRestoreContext;
  options: RedisFileRestoreOptions;
  appendonly: boolean;
  staging: string;
  plan: RestorePlan;
  appenddirname: string;
  timing: PollTiming;
}

/**
 * Stop, set the old files aside, install, start, verify. Any failure from
 * here on puts the old files back and starts Redis again, so a failed
 * restore leaves the host as it was rather than with an empty or half
 * restored Redis.
 */
async function swapAndVerify(swap: Swap, record: RedisBackupRecord): Promise<RedisRestoreResult> {
  const { ctx, options, plan } = swap;
  const where = endpoint(options.connection);
  ctx.onProgress?.({ phase: "stop", bytesDone: 0 });
  await options.stop();
  const aside = await setAsideStrays(options.dataDir, swap.appenddirname);
  try {
    await installStaged(swap.staging, plan, options.dataDir);
    ctx.onProgress?.({ phase: "start", bytesDone: 0 });
    await options.start();
    ctx.onProgress?.({ phase: "verify", bytesDone: 0 });
    await waitUntilLoaded(options.connection, swap.timing);
    const counts = await withRedis(options.connection, async (client) => {
      await assertAppendonly(client, swap.appendonly, where);
      return verifyCounts(
        client,
        { expected: record.counts, mayHaveExpired: record.expires, allowExtra: false },
        where,
      );
    });
    await rm(aside.dir, { recursive: true, force: true });
    return { counts, aof: plan.aof, removed: aside.names };
  } catch (err) {
    throw await rollBack(swap, aside, err);
  }
}

async function rollBack(swap: Swap, aside: SetAside, cause: unknown): Promise<RepoError> {
  const { options } = swap;
  const reason = cause instanceof Error ? cause.message : String(cause);
  swap.ctx.onProgress?.({ phase: "rollback", bytesDone: 0 });
  try {
    // Redis may not be running (its start failed); a failing stop hook then says nothing.
    await options.stop().catch(() => {});
    await putBack(aside, swap.plan, options.dataDir, swap.appenddirname);
    await options.start();
    await waitUntilLoaded(options.connection, swap.timing);
  } catch (rollbackErr) {
    const why = rollbackErr instanceof Error ? rollbackErr.message : String(rollbackErr);
    return sourceFailed(
      `the Redis restore failed (${reason}) and putting the previous data back failed too (${why}); ` +
        `the previous files are in ${aside.dir}: move them back into ${options.dataDir} with Redis stopped`,
    );
  }
  return sourceFailed(
    `the Redis restore failed and was rolled back (Redis runs with its previous data): ${reason}`,
  );
}

/** The header of the RDB actually restored, not only the recorded one, decides. */
async function checkStagedRdb(staging: string, plan: RestorePlan, targetVersion: string, dbfilename: string) {
  if (!plan.files.some((f) => f.to === dbfilename)) return;
  const format = rdbFormatOf(await readHead(join(staging, dbfilename), 9));
  if (format === undefined)
    throw sourceFailed("the RDB in the backup has no valid header; the snapshot is damaged");
  assertRestorable("0", targetVersion, format);
}

/** A start hook that brought Redis up with other settings would make the AOF handling wrong. */
async function assertAppendonly(
  client: Parameters<typeof verifyCounts>[0],
  expected: boolean,
  where: string,
) {
  const reply = (await client.config("GET", "appendonly")) as string[];
  if ((reply[1] === "yes") !== expected) {
    throw sourceFailed(
      `Redis at ${where} came back with appendonly ${reply[1]}, expected ${expected ? "yes" : "no"}; ` +
        "check the config file the start hook uses",
    );
  }
}
