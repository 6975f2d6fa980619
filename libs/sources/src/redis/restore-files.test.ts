import { readdirSync, readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { listFiles, loadSnapshot } from "@pwdr/repo";
import { type RedisServer, startRedis, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectionOf,
  fillRedis,
  readDataset,
  redisTestRepository,
  serviceHooks,
  snapshotOf,
  withClient,
} from "../test-support/redis-fixtures.js";
import { backupRedisFiles } from "./backup-files.js";
import { restoreRedisFiles } from "./restore-files.js";

afterAll(stopAll);

async function waitForRewrite(server: RedisServer): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const info = await withClient(server, (c) => c.info("persistence"));
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("AOF rewrite did not finish");
}

describe("file-mode Redis backup and restore", () => {
  it("restores over a stale empty AOF and an old dump.rdb, and AOF stays on across restarts", async () => {
    const server = await startRedis({ appendonly: true });
    const connection = connectionOf(server);
    await withClient(server, async (c) => {
      await c.set("stale", "from an old dump");
      await c.save();
    });
    const oldRdb = readFileSync(join(server.dir, "dump.rdb"));
    await withClient(server, (c) => c.flushall());
    await fillRedis(server);
    const before = await readDataset(server);

    const repo = await redisTestRepository();
    const { id, result } = await snapshotOf(repo, (ctx) =>
      backupRedisFiles(ctx, { connection, dataDir: server.dir }),
    );
    expect(result.counts).toEqual({ "redis:db0": 47, "redis:db3": 47 });
    expect(result.version).toMatch(/^7\./);
    expect(result.meta).toMatchObject({ appendonly: true, aof: { manifest: "appendonly.aof.manifest" } });
    const paths: string[] = [];
    for await (const e of listFiles(repo, await loadSnapshot(repo, id), { recursive: true }))
      paths.push(e.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "/redis/dump.rdb",
        "/redis/aof/appendonly.aof.manifest",
        "/redis/pwdr-redis.json",
      ]),
    );

    // The disaster: the dataset is gone, appendonlydir now describes an empty
    // dataset, and an old dump.rdb and a temp file lie around.
    await withClient(server, async (c) => {
      await c.flushall();
      await c.bgrewriteaof();
    });
    await waitForRewrite(server);
    const hooks = serviceHooks(server);
    await hooks.stop();
    await rm(join(server.dir, "dump.rdb"), { force: true });
    await writeFile(join(server.dir, "dump.rdb"), oldRdb);
    await writeFile(join(server.dir, "temp-4242.rdb"), "half-written");
    await hooks.start();
    // The trap the restore must avoid: with AOF on, the old dump.rdb is ignored.
    expect(await withClient(server, (c) => c.dbsize())).toBe(0);

    const restored = await restoreRedisFiles(
      { repo, snapshotId: id },
      { dataDir: server.dir, appendonly: true, stop: hooks.stop, start: hooks.start, connection },
    );
    expect(restored.aof).toBe("restored");
    expect(restored.removed).toEqual(expect.arrayContaining(["appendonlydir", "dump.rdb", "temp-4242.rdb"]));
    expect(restored.counts).toEqual({ "redis:db0": 47, "redis:db3": 47 });
    expect(await readDataset(server)).toEqual(before);
    expect(await withClient(server, (c) => c.config("GET", "appendonly"))).toEqual(["appendonly", "yes"]);
    expect(readdirSync(server.dir).filter((n) => n.startsWith(".pwdr-restore-"))).toEqual([]);

    await server.restart();
    expect(await readDataset(server)).toEqual(before);
    expect(await withClient(server, (c) => c.exists("stale"))).toBe(0);
    await server.stop();
  });

  it("restores an RDB-only backup into a Redis with AOF on by making the RDB the AOF base", async () => {
    const source = await startRedis();
    await fillRedis(source);
    const before = await readDataset(source);
    const repo = await redisTestRepository();
    const { id, result } = await snapshotOf(repo, (ctx) =>
      backupRedisFiles(ctx, { connection: connectionOf(source) }),
    );
    expect(result.meta).toMatchObject({ appendonly: false, aof: null });
    await source.stop();

    const target = await startRedis({ appendonly: true });
    await withClient(target, (c) => c.set("target-only", "must disappear"));
    const hooks = serviceHooks(target);
    const restored = await restoreRedisFiles(
      { repo, snapshotId: id },
      {
        dataDir: target.dir,
        appendonly: true,
        stop: hooks.stop,
        start: hooks.start,
        connection: connectionOf(target),
      },
    );
    expect(restored.aof).toBe("rebuilt-from-rdb");
    expect(await readDataset(target)).toEqual(before);
    expect(await withClient(target, (c) => c.config("GET", "appendonly"))).toEqual(["appendonly", "yes"]);
    // New writes go to the AOF, and all of it survives a restart.
    await withClient(target, (c) => c.set("after-restore", "1"));
    await target.restart();
    expect(await readDataset(target, [3])).toEqual(
      Object.fromEntries(Object.entries(before).filter(([k]) => k.startsWith("db3:"))),
    );
    expect(await withClient(target, (c) => c.get("after-restore"))).toBe("1");
    expect(await withClient(target, (c) => c.exists("target-only"))).toBe(0);
    await target.stop();
  });
  it("puts the previous data back and starts Redis when a step after the stop fails", async () => {
    const source = await startRedis({ appendonly: true });
    await fillRedis(source);
    const repo = await redisTestRepository();
    const { id } = await snapshotOf(repo, (ctx) =>
      backupRedisFiles(ctx, { connection: connectionOf(source) }),
    );
    await source.stop();

    const target = await startRedis({ appendonly: true });
    await withClient(target, async (c) => {
      await c.set("live", "data the host had before");
      await c.set("ttl-key", "x", "EX", 3600);
    });
    const previous = await readDataset(target);
    const hooks = serviceHooks(target);
    let starts = 0;
    const failingFirstStart = async () => {
      starts++;
      if (starts === 1) throw new Error("unit redis-server failed to start");
      await hooks.start();
    };
    const options = {
      dataDir: target.dir,
      appendonly: true,
      stop: hooks.stop,
      start: failingFirstStart,
      connection: connectionOf(target),
    };
    await expect(restoreRedisFiles({ repo, snapshotId: id }, options)).rejects.toMatchObject({
      code: "source_failed",
      message: expect.stringMatching(/rolled back.*unit redis-server failed to start/),
    });
    expect(starts).toBe(2);
    expect(await readDataset(target)).toEqual(previous);
    expect(readdirSync(target.dir).filter((n) => n.startsWith(".pwdr-"))).toEqual([]);
    expect(await withClient(target, (c) => c.config("GET", "appendonly"))).toEqual(["appendonly", "yes"]);
    await target.restart();
    expect(await readDataset(target)).toEqual(previous);
    await target.stop();
  });

  it("restores into a Redis with AOF off, and names the database whose count is wrong", async () => {
    const source = await startRedis({ appendonly: true });
    await fillRedis(source);
    const before = await readDataset(source);
    const repo = await redisTestRepository();
    const { id } = await snapshotOf(repo, (ctx) =>
      backupRedisFiles(ctx, { connection: connectionOf(source) }),
    );
    await source.stop();

    const target = await startRedis();
    const connection = connectionOf(target);
    const hooks = serviceHooks(target);
    const options = {
      dataDir: target.dir,
      appendonly: false,
      stop: hooks.stop,
      start: hooks.start,
      connection,
    };
    // Something writes between start and verification: the check must notice.
    const meddling = {
      ...options,
      start: async () => {
        await hooks.start();
        await withClient(target, async (c) => {
          await c.select(5);
          await c.set("intruder", "1");
        });
      },
    };
    await expect(restoreRedisFiles({ repo, snapshotId: id }, meddling)).rejects.toMatchObject({
      code: "source_failed",
      message: expect.stringMatching(/db5 has 1 keys, the backup recorded 0/),
    });

    const restored = await restoreRedisFiles({ repo, snapshotId: id }, options);
    expect(restored.aof).toBe("off");
    expect(await readDataset(target)).toEqual(before);
    await target.restart();
    expect(await readDataset(target)).toEqual(before);
    await target.stop();
  });
});
