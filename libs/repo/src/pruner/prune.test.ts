import { readdir, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Backend, FileHandle } from "../backend/backend.js";
import { checkRepository } from "../checker/check-repository.js";
import { forget } from "../forget/forget.js";
import { encodeIndexFile } from "../index/index-file.js";
import { readIndexFiles } from "../index/read-index-files.js";
import { acquireLock } from "../lock/acquire-lock.js";
import { Repository } from "../repository.js";
import { listSnapshots } from "../snapshot/snapshot.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import {
  type BuiltSnapshot,
  buildSnapshot,
  flipByte,
  packBytes,
  packOf,
  packPath,
} from "../test-support/snapshot-builder.js";
import { prune } from "./prune.js";
import type { PruneProgress } from "./prune-progress.js";

async function files(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const dir of ["index", "snapshots", "locks"])
    out.push(...(await readdir(join(root, dir))).map((f) => `${dir}/${f}`));
  for (const d of await readdir(join(root, "data")))
    out.push(...(await readdir(join(root, "data", d))).map((f) => `data/${f}`));
  return out.sort();
}

/** An old snapshot with data of its own, and a newer one sharing some of it. */
async function history() {
  const t = await tempRepository({ packSize: 64 * 1024 });
  const shared = { "/keep/k": seededBytes("k", 50_000) };
  const old = await buildSnapshot(
    t.repo,
    { ...shared, "/big/old1": seededBytes("o1", 100_000), "/big/old2": seededBytes("o2", 100_000) },
    { time: "2024-01-01T00:00:00Z" },
  );
  const recent = await buildSnapshot(
    t.repo,
    { ...shared, "/new/n": seededBytes("n", 60_000) },
    { time: "2024-02-01T00:00:00Z" },
  );
  return { ...t, old, recent };
}

/** Opens the repository afresh, as another process would, and reads every blob of the given snapshots. */
async function expectRestorable(repo: Repository, snapshots: BuiltSnapshot[]): Promise<Repository> {
  const fresh = await Repository.open(repo.backend, PASSWORD);
  await fresh.loadIndex();
  for (const s of snapshots) {
    for (const ids of s.blobs.values()) for (const id of ids) await fresh.loadBlob(id, "data");
  }
  const report = await checkRepository(fresh, { readData: "all" });
  expect(report.errors).toEqual([]);
  return fresh;
}

function uniqueBlobs(of: BuiltSnapshot, besides: BuiltSnapshot): string[] {
  const others = new Set([...besides.blobs.values()].flat());
  return [...of.blobs.values()].flat().filter((id) => !others.has(id));
}

describe("prune", () => {
  it("plans with sizes on a dry run and changes nothing", async () => {
    const { repo, root, old } = await history();
    await rm(join(root, "snapshots", old.id));
    const before = await files(root);
    const result = await prune(repo, { dryRun: true });
    expect(await files(root)).toEqual(before);
    const { plan } = result;
    expect(result).toMatchObject({ dryRun: true, packsDeleted: 0, packsWritten: 0 });
    expect(plan.snapshots).toBe(1);
    expect(plan.deletePacks.length).toBeGreaterThan(0);
    expect(plan.bytes.total).toBe(await packBytes(root));
    expect(plan.bytes.delete).toBeGreaterThan(150_000);
    expect(plan.bytes.after).toBe(
      plan.bytes.total - plan.bytes.delete - plan.bytes.repack + plan.bytes.repackLive,
    );
    expect(plan.bytes.after).toBeLessThan(plan.bytes.total);
  });

  it("frees forgotten data and leaves a repository that checks clean", async () => {
    const { repo, root, old, recent } = await history();
    const before = await packBytes(root);
    await forget(repo, { keepLast: 1 });
    const events: PruneProgress[] = [];
    const result = await prune(repo, { onProgress: (e) => events.push(e) });

    expect(result.packsDeleted).toBeGreaterThan(0);
    expect(await packBytes(root)).toBeLessThan(before - 150_000);
    // New packs also hold a header, which bytesWritten (blob bytes) leaves out.
    const freed = before - (await packBytes(root));
    expect(freed).toBeLessThanOrEqual(result.bytesDeleted - result.bytesWritten);
    expect(freed).toBeGreaterThan(result.bytesDeleted - result.bytesWritten - 4096);
    expect(await readdir(join(root, "index"))).toHaveLength(1);
    expect(await readdir(join(root, "locks"))).toEqual([]);
    const fresh = await expectRestorable(repo, [recent]);
    for (const id of uniqueBlobs(old, recent)) expect(fresh.index.has(id)).toBe(false);
    expect(new Set(events.map((e) => e.phase))).toEqual(
      new Set(["indexes", "snapshots", "repack", "exclusive-lock", "delete-indexes", "delete-packs"]),
    );

    const again = await prune(fresh);
    expect(again).toMatchObject({ packsDeleted: 0, indexesDeleted: 0, packsWritten: 0 });
    expect(again.plan.bytes.unused).toBe(0);
  });

  it("repacks a partly used pack beyond the unused limit, and leaves it with an unlimited one", async () => {
    const { repo, root } = await tempRepository({ packSize: 64 * 1024 });
    const a = seededBytes("a", 28_000);
    const old = await buildSnapshot(repo, { "/a": a, "/b": seededBytes("b", 28_000) });
    const recent = await buildSnapshot(repo, { "/a": a, "/c": Buffer.from("small") });
    const shared = packOf(repo, old.blobs.get("/a")?.[0] as string);
    expect(packOf(repo, old.blobs.get("/b")?.[0] as string)).toBe(shared);
    await rm(join(root, "snapshots", old.id));

    const lenient = await prune(repo, { dryRun: true, maxUnused: "unlimited" });
    expect(lenient.plan.repackPacks).toEqual([]);
    expect(lenient.plan.bytes.unusedAfter).toBeGreaterThan(25_000);

    const result = await prune(repo);
    expect(result.plan.repackPacks).toEqual([shared]);
    expect(result.packsWritten).toBeGreaterThan(0);
    expect(result.bytesWritten).toBeGreaterThan(25_000);
    expect(result.plan.bytes.unusedAfter).toBe(0);
    const fresh = await expectRestorable(repo, [recent]);
    expect(fresh.index.hasPack(shared)).toBe(false);
    expect(fresh.index.has(old.blobs.get("/b")?.[0] as string)).toBe(false);
  });

  it("removes packs no index lists and writers' temporary files", async () => {
    const { repo, root, recent } = await history();
    const crashed = repo.startWrite();
    for (let i = 0; i < 4; i++) await crashed.saveBlob("data", seededBytes(`orphan${i}`, 30_000));
    await new Promise((r) => setTimeout(r, 100));
    await writeFile(join(root, "data", "00", ".tmp-deadbeef"), "half a pack");
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(root, "data", "00", ".tmp-deadbeef"), twoHoursAgo, twoHoursAgo);
    await writeFile(join(root, "data", "00", ".tmp-inprogress"), "a save still running");
    const plan = (await prune(repo, { dryRun: true })).plan;
    expect(plan.unindexedPacks.length).toBeGreaterThan(0);

    const result = await prune(repo);
    expect(result.temporaryFilesRemoved).toBe(1);
    const left = await files(root);
    for (const p of plan.unindexedPacks) expect(left).not.toContain(`data/${p}`);
    // Packs named 00… live here too; only the temporary files matter.
    const temporary = (await readdir(join(root, "data", "00"))).filter((n) => n.startsWith(".tmp-"));
    expect(temporary).toEqual([".tmp-inprogress"]);
    await expectRestorable(repo, [recent]);
  });

  it("keeps a pack planned for deletion when a snapshot written before the deletion phase needs it", async () => {
    const { repo, root } = await tempRepository({ packSize: 64 * 1024 });
    const content = { "/x": seededBytes("x", 40_000) };
    const old = await buildSnapshot(repo, content);
    const pack = packOf(repo, old.blobs.get("/x")?.[0] as string);
    await rm(join(root, "snapshots", old.id));
    let late: BuiltSnapshot | undefined;

    const result = await prune(repo, {
      hooks: {
        // A backup that ran meanwhile found the blobs in the index it loaded and reused them.
        beforeExclusiveLock: async () => {
          late = await buildSnapshot(repo, content);
        },
      },
    });
    expect(result.plan.deletePacks).toContain(pack);
    expect(result.packsRescued).toContain(pack);
    expect(await files(root)).toContain(`data/${pack}`);
    await expectRestorable(repo, [late as BuiltSnapshot]);
  });

  it("refuses to prune when it cannot tell what is live, deleting nothing", async () => {
    const { repo, root, recent } = await history();
    await rm(join(root, "snapshots", (await listSnapshots(repo))[0]?.id as string));
    await rm(packPath(root, packOf(repo, recent.tree)));
    const before = await files(root);
    await expect(prune(repo)).rejects.toMatchObject({
      code: "blob_missing",
      message: expect.stringContaining("nothing was deleted"),
    });
    expect(await files(root)).toEqual(before);

    const { repo: repo2, root: root2 } = await history();
    const index = (await readdir(join(root2, "index")))[0] as string;
    await flipByte(join(root2, "index", index), 10);
    const before2 = await files(root2);
    await expect(prune(repo2)).rejects.toMatchObject({
      code: "data_corrupt",
      message: expect.stringContaining("prune needs every index"),
    });
    expect(await files(root2)).toEqual(before2);
  });

  it("deletes a damaged index that a readable one supersedes, instead of being stopped by it", async () => {
    const { repo, root, old, recent } = await history();
    await forget(repo, { keepLast: 1 });
    const [first] = await readdir(join(root, "index"));
    // A prune that stopped after writing its index: the old indexes are superseded but still there.
    const all = await readIndexFiles(repo);
    const packs = [...all.values()].flatMap((f) => f.packs);
    await repo.saveJson(
      "index",
      JSON.parse(encodeIndexFile({ supersedes: [...all.keys()], packs }).toString()),
    );
    await flipByte(join(root, "index", first as string), 10);
    expect((await checkRepository(repo)).errors).toEqual([]);

    const result = await prune(repo);
    expect(await readdir(join(root, "index"))).toHaveLength(1);
    // Both old ones, the damaged one among them, the one written above and the one repacking wrote.
    expect(result.indexesDeleted).toBe(4);
    const clean = await expectRestorable(repo, [recent]);
    for (const id of uniqueBlobs(old, recent)) expect(clean.index.has(id)).toBe(false);
  });

  it("waits for running backups before deleting, and gives up leaving a valid repository", async () => {
    const { repo, root, old, recent } = await history();
    await rm(join(root, "snapshots", old.id));
    const backup = await acquireLock(repo, { exclusive: false, operation: "backup" });
    await expect(prune(repo, { exclusiveLockWaitMs: 300 })).rejects.toMatchObject({ code: "repo_locked" });
    expect((await files(root)).filter((f) => f.startsWith("locks/"))).toEqual([`locks/${backup.name}`]);
    await expectRestorable(repo, [recent]);

    setTimeout(() => void backup.release(), 300);
    const result = await prune(repo, { exclusiveLockWaitMs: 10_000 });
    expect(result.packsDeleted).toBeGreaterThan(0);
    await expectRestorable(repo, [recent]);
  });

  for (const crashAt of ["index", "data"] as const) {
    it(`leaves a valid repository when it stops while deleting ${crashAt === "index" ? "indexes" : "packs"}`, async () => {
      const { repo, backend, root, old, recent } = await history();
      await forget(repo, { keepLast: 1 });
      const failing: Backend = {
        location: backend.location,
        create: () => backend.create(),
        load: (h, range) => backend.load(h, range),
        stat: (h) => backend.stat(h),
        list: (type) => backend.list(type),
        save: (h, data) => backend.save(h, data),
        remove: async (h: FileHandle) => {
          if (h.type === crashAt) throw new Error("power cut");
          return backend.remove(h);
        },
      };
      const crashing = await Repository.open(failing, PASSWORD);
      await expect(prune(crashing)).rejects.toThrow("power cut");
      expect(await readdir(join(root, "locks"))).toEqual([]);

      const fresh = await expectRestorable(repo, [recent]);
      const finished = await prune(fresh);
      expect(finished.packsDeleted).toBeGreaterThan(0);
      const clean = await expectRestorable(repo, [recent]);
      for (const id of uniqueBlobs(old, recent)) expect(clean.index.has(id)).toBe(false);
    });
  }
});
