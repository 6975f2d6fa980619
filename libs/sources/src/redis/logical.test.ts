import { startRedis, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import {
  connectionOf,
  fillRedis,
  readDataset,
  redisTestRepository,
  snapshotOf,
  withClient,
} from "../test-support/redis-fixtures.js";
import { backupRedisLogical } from "./backup-logical.js";
import { restoreRedisLogical } from "./restore-logical.js";

afterAll(stopAll);

describe("logical Redis backup and restore", () => {
  it("round-trips every type across databases, keeps TTLs and skips keys that expired meanwhile", async () => {
    const source = await startRedis({ appendonly: true });
    await fillRedis(source);
    await withClient(source, (c) => c.set("short-lived", "x", "PX", 800));
    const repo = await redisTestRepository();
    const { id, result } = await snapshotOf(repo, (ctx) =>
      backupRedisLogical(ctx, { connection: connectionOf(source), batchSize: 7 }),
    );
    expect(result.counts).toEqual({ "redis:db0": 48, "redis:db3": 47 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const before = await readDataset(source);
    const sourceTtl = await withClient(source, (c) => c.pttl("ttl:0:long"));

    const target = await startRedis({ appendonly: true });
    const restored = await restoreRedisLogical(
      { repo, snapshotId: id },
      { connection: connectionOf(target) },
    );
    expect(restored.counts).toEqual({ "redis:db0": 47, "redis:db3": 47 });
    expect(await readDataset(target)).toEqual(before);
    const targetTtl = await withClient(target, (c) => c.pttl("ttl:0:long"));
    expect(Math.abs(targetTtl - sourceTtl)).toBeLessThan(2_000);
    expect(await withClient(target, (c) => c.exists("short-lived"))).toBe(0);
    await target.restart();
    expect(await readDataset(target)).toEqual(before);
    await Promise.all([source.stop(), target.stop()]);
  });
});
