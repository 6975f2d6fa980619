import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Backup, type Repository } from "@pwdr/repo";
import { startRedis, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectionOf,
  redisTestRepository,
  serviceHooks,
  snapshotOf,
  withClient,
} from "../test-support/redis-fixtures.js";
import { backupRedisFiles } from "./backup-files.js";
import { backupRedisLogical } from "./backup-logical.js";
import { bytesStream } from "./file-reads.js";
import { encodeRecord, SNAPSHOT_PATHS } from "./record.js";
import { restoreRedisFiles } from "./restore-files.js";

afterAll(stopAll);

/** A file-mode snapshot with a given RDB and recorded version, as an older or newer Redis would leave. */
async function craftedSnapshot(repo: Repository, rdb: Buffer, redisVersion: string): Promise<string> {
  const backup = await Backup.start(repo, { source: { kind: "redis", name: "redis" } });
  await backup.addStream(SNAPSHOT_PATHS.rdb, bytesStream(rdb));
  const record = { format: 1 as const, mode: "files" as const, redisVersion, counts: {}, expires: {} };
  await backup.addStream(SNAPSHOT_PATHS.record, bytesStream(encodeRecord(record)));
  return (await backup.finish()).id;
}

describe("Redis restore refusals and failures", () => {
  it("refuses a backup from a newer Redis before stopping anything", async () => {
    const server = await startRedis({ appendonly: true });
    await withClient(server, async (c) => {
      await c.set("live", "data");
      await c.save();
    });
    const rdb = readFileSync(join(server.dir, "dump.rdb"));
    const repo = await redisTestRepository();
    const hooks = serviceHooks(server);
    const options = {
      dataDir: server.dir,
      appendonly: true,
      stop: hooks.stop,
      start: hooks.start,
      connection: connectionOf(server),
    };

    const newerVersion = await craftedSnapshot(repo, rdb, "99.0.0");
    await expect(restoreRedisFiles({ repo, snapshotId: newerVersion }, options)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/Redis 99\.0\.0, newer than the target Redis 7\.0\.\d+; upgrade/),
    });
    const newerRdb = Buffer.concat([Buffer.from("REDIS0099"), rdb.subarray(9)]);
    const newerFormat = await craftedSnapshot(repo, newerRdb, "7.0.0");
    await expect(restoreRedisFiles({ repo, snapshotId: newerFormat }, options)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringMatching(/RDB has format 99, but Redis 7\.0\.\d+ reads formats up to 10/),
    });

    expect(hooks.calls).toEqual([]);
    expect(await withClient(server, (c) => c.get("live"))).toBe("data");
    await server.stop();
  });

  it("fails with a clear error when BGSAVE does not finish in time", async () => {
    const server = await startRedis();
    await withClient(server, async (c) => {
      await c.mset("a", "1", "b", "2", "c", "3");
      // Microseconds of sleep per saved key: a save of three keys takes seconds.
      await c.config("SET", "rdb-key-save-delay", "1000000");
    });
    const repo = await redisTestRepository();
    await expect(
      snapshotOf(repo, (ctx) =>
        backupRedisFiles(ctx, { connection: connectionOf(server), timeoutMs: 300, pollMs: 50 }),
      ),
    ).rejects.toMatchObject({
      code: "source_failed",
      message: expect.stringMatching(/BGSAVE .* did not finish within 300 ms/),
    });
    await server.stop();
  });

  it("reports a refused login without the password", async () => {
    // Set after start: the harness's readiness PING does not authenticate.
    const server = await startRedis();
    await withClient(server, (c) => c.config("SET", "requirepass", "the-real-one"));
    const repo = await redisTestRepository();
    const attempt = snapshotOf(repo, (ctx) =>
      backupRedisLogical(ctx, { connection: { ...connectionOf(server), password: "wrong-secret-42" } }),
    );
    const err = await attempt.then(
      () => new Error("the backup succeeded"),
      (e: unknown) => e as Error,
    );
    expect(err).toMatchObject({
      code: "source_failed",
      message: expect.stringMatching(/cannot connect to Redis/),
    });
    expect(JSON.stringify({ message: err.message, stack: err.stack, cause: String(err.cause) })).not.toMatch(
      /wrong-secret-42|the-real-one/,
    );
    await server.stop();
  });
});
