import { readdir, rm, truncate } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireLock } from "../lock/acquire-lock.js";
import type { Repository } from "../repository.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import {
  type BuiltSnapshot,
  buildSnapshot,
  flipByte,
  packOf,
  packPath,
} from "../test-support/snapshot-builder.js";
import { findNode, splitPath } from "../tree/tree-io.js";
import type { AffectedSnapshot, CheckProgress } from "./check-report.js";
import { checkRepository } from "./check-repository.js";

/** Two snapshots sharing most of their data, each written with its own packs and index. */
async function twoSnapshots() {
  const t = await tempRepository({ packSize: 64 * 1024 });
  const shared = {
    "/etc/a.conf": seededBytes("a", 20_000),
    "/home/u/photos/p1.jpg": seededBytes("p1", 60_000),
  };
  const s1 = await buildSnapshot(
    t.repo,
    { ...shared, "/home/u/doc.txt": seededBytes("doc1", 40_000) },
    { time: "2024-01-01T00:00:00Z" },
  );
  const indexes1 = await readdir(join(t.root, "index"));
  const s2 = await buildSnapshot(
    t.repo,
    {
      ...shared,
      "/home/u/doc.txt": seededBytes("doc2", 40_000),
      "/var/log/new.log": seededBytes("log", 30_000),
    },
    { time: "2024-01-02T00:00:00Z" },
  );
  const index2 = (await readdir(join(t.root, "index"))).find((n) => !indexes1.includes(n)) as string;
  return { ...t, s1, s2, index1: indexes1[0] as string, index2 };
}

/** What check should report: for each snapshot, the files with a lost blob. */
function expectedAffected(snapshots: BuiltSnapshot[], lost: ReadonlySet<string>): AffectedSnapshot[] {
  return snapshots
    .map((s) => ({
      snapshot: s.id,
      paths: [...s.blobs]
        .filter(([, ids]) => ids.some((id) => lost.has(id)))
        .map(([p]) => p)
        .sort(),
    }))
    .filter((a) => a.paths.length > 0);
}

function entriesOf(repo: Repository, pack: string) {
  return [...repo.index.packs()].find(([id]) => id === pack)?.[1] ?? [];
}

describe("check", () => {
  it("passes a healthy repository, reading all data, and reports progress", async () => {
    const { repo, s1, s2 } = await twoSnapshots();
    const events: CheckProgress[] = [];
    const report = await checkRepository(repo, { readData: "all", onProgress: (e) => events.push(e) });
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.damagedSnapshots).toEqual([]);
    expect(report.snapshotsChecked).toBe(2);
    expect(report.packsChecked).toBe(repo.index.packCount);
    expect(report.packsRead).toBe(repo.index.packCount);
    expect(report.blobsChecked).toBeGreaterThan(
      [...s1.blobs.values(), ...s2.blobs.values()].flat().length / 2,
    );
    expect(report.bytesRead).toBeGreaterThan(150_000);
    expect(new Set(events.map((e) => e.phase))).toEqual(
      new Set(["indexes", "packs", "snapshots", "read-data"]),
    );
    expect(events.filter((e) => e.phase === "read-data").at(-1)).toMatchObject({
      done: report.packsRead,
      total: report.packsRead,
    });
  });

  it("finds a flipped byte only when reading data, and names the pack, snapshots and file", async () => {
    const { repo, root, s1, s2 } = await twoSnapshots();
    const blob = s1.blobs.get("/home/u/photos/p1.jpg")?.[1] as string;
    const pack = packOf(repo, blob);
    const entry = entriesOf(repo, pack).find((e) => e.id === blob);
    await flipByte(packPath(root, pack), (entry?.offset ?? 0) + 40);

    expect((await checkRepository(repo)).errors).toEqual([]);
    const report = await checkRepository(repo, { readData: "all" });
    expect(report.errors).toEqual([
      {
        kind: "pack_damaged",
        file: `data/${pack}`,
        message: expect.stringMatching(/does not match its name.*1 of its \d+ blobs are damaged/),
        blobs: [blob],
        affected: expectedAffected([s1, s2], new Set([blob])),
      },
    ]);
    expect(report.errors[0]?.affected.map((a) => a.paths)).toEqual([
      ["/home/u/photos/p1.jpg"],
      ["/home/u/photos/p1.jpg"],
    ]);
    expect(report.damagedSnapshots).toEqual([s1.id, s2.id]);

    const first = Number.parseInt(pack.slice(0, 2), 16);
    const other = await checkRepository(repo, { readData: { part: ((first + 1) % 2) + 1, of: 2 } });
    expect(other.errors).toEqual([]);
    const same = await checkRepository(repo, { readData: { part: (first % 2) + 1, of: 2 } });
    expect(same.errors).toHaveLength(1);
  });

  it("reports a truncated pack with the files whose blobs were cut off", async () => {
    const { repo, root, s1, s2 } = await twoSnapshots();
    const pack = packOf(repo, s1.blobs.get("/home/u/doc.txt")?.[0] as string);
    const entries = entriesOf(repo, pack);
    const cutAt = Math.floor(((entries.at(-1)?.offset ?? 0) + (entries.at(-1)?.length ?? 0)) / 2);
    await truncate(packPath(root, pack), cutAt);
    const cut = new Set(entries.filter((e) => e.offset + e.length > cutAt).map((e) => e.id));

    const report = await checkRepository(repo);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatchObject({
      kind: "pack_size",
      file: `data/${pack}`,
      message: expect.stringContaining(`${cut.size} of its ${entries.length} blobs lie beyond its end`),
      affected: expectedAffected([s1, s2], cut),
    });
    expect(report.damagedSnapshots).toContain(s1.id);
    const withData = await checkRepository(repo, { readData: "all" });
    expect(withData.errors.map((e) => e.kind)).toEqual(["pack_size", "pack_damaged"]);
  });

  it("reports a deleted pack with every snapshot and file that used its blobs", async () => {
    const { repo, root, s1, s2 } = await twoSnapshots();
    const pack = packOf(repo, s1.blobs.get("/home/u/photos/p1.jpg")?.[0] as string);
    const lost = new Set(entriesOf(repo, pack).map((e) => e.id));
    await rm(packPath(root, pack));

    const report = await checkRepository(repo, { readData: "all" });
    expect(report.errors).toEqual([
      {
        kind: "pack_missing",
        file: `data/${pack}`,
        message: expect.stringContaining("does not exist"),
        blobs: [...lost],
        affected: expectedAffected([s1, s2], lost),
      },
    ]);
    const s1Paths = report.errors[0]?.affected.find((a) => a.snapshot === s1.id)?.paths;
    expect(s1Paths).toContain("/home/u/photos/p1.jpg");
    expect(report.damagedSnapshots).toEqual([s1.id, s2.id]);
  });

  it("reports a deleted index: the snapshot whose trees it listed, and the pack that still holds them", async () => {
    const { repo, root, s1, s2, index2 } = await twoSnapshots();
    const treePack = packOf(repo, s2.tree);
    await rm(join(root, "index", index2));

    const report = await checkRepository(repo);
    expect(report.warnings.map((w) => w.kind)).toContain("unreferenced_pack");
    expect(report.warnings.map((w) => w.file)).toContain(`data/${treePack}`);
    expect(report.errors).toEqual([
      {
        kind: "blobs_missing",
        file: `data/${treePack}`,
        message: expect.stringContaining("an index was lost or damaged"),
        blobs: [s2.tree],
        affected: [{ snapshot: s2.id, paths: ["/"] }],
      },
    ]);
    expect(report.damagedSnapshots).toEqual([s2.id]);
    expect(report.damagedSnapshots).not.toContain(s1.id);
  });

  it("reports blobs that are in no index and in no pack", async () => {
    const { repo, root, s2, index2 } = await twoSnapshots();
    const treePack = packOf(repo, s2.tree);
    await rm(join(root, "index", index2));
    await rm(packPath(root, treePack));

    const report = await checkRepository(repo);
    expect(report.errors).toEqual([
      {
        kind: "blobs_missing",
        message: expect.stringContaining("in no index and in no pack"),
        blobs: [s2.tree],
        affected: [{ snapshot: s2.id, paths: ["/"] }],
      },
    ]);
  });

  it("reports a damaged index and blames it for the blobs no index lists", async () => {
    const { repo, root, s2, index2 } = await twoSnapshots();
    await flipByte(join(root, "index", index2), 30);

    const report = await checkRepository(repo);
    const damaged = report.errors.find((e) => e.kind === "index_damaged");
    expect(damaged).toMatchObject({
      file: `index/${index2}`,
      message: expect.stringContaining("cannot be read"),
      affected: [{ snapshot: s2.id, paths: ["/"] }],
    });
    expect(report.errors.map((e) => e.kind)).toEqual(["index_damaged", "blobs_missing"]);
    expect(report.damagedSnapshots).toEqual([s2.id]);
  });

  it("reports a damaged snapshot file and checks the others", async () => {
    const { repo, root, s1, s2 } = await twoSnapshots();
    await flipByte(join(root, "snapshots", s1.id), 20);

    const report = await checkRepository(repo);
    expect(report.errors).toEqual([
      {
        kind: "snapshot_damaged",
        file: `snapshots/${s1.id}`,
        message: expect.stringContaining("cannot be read"),
        blobs: [],
        affected: [{ snapshot: s1.id, paths: ["/"] }],
      },
    ]);
    expect(report.snapshotsChecked).toBe(1);
    expect(report.damagedSnapshots).toEqual([s1.id]);
    expect(report.damagedSnapshots).not.toContain(s2.id);
  });

  it("reports a damaged tree blob with the directory it held, in every snapshot sharing it", async () => {
    const { repo, root, s1, s2 } = await twoSnapshots();
    const photos = (await findNode(repo, s1.tree, splitPath("/home/u/photos")))?.subtree as string;
    const pack = packOf(repo, photos);
    const entry = entriesOf(repo, pack).find((e) => e.id === photos);
    await flipByte(packPath(root, pack), (entry?.offset ?? 0) + 20);

    const report = await checkRepository(repo);
    expect(report.errors).toEqual([
      {
        kind: "tree_damaged",
        message: expect.stringContaining(`tree ${photos.slice(0, 12)} cannot be read`),
        blobs: [photos],
        affected: [
          { snapshot: s1.id, paths: ["/home/u/photos"] },
          { snapshot: s2.id, paths: ["/home/u/photos"] },
        ],
      },
    ]);
  });

  it("warns about a pack no index lists without failing", async () => {
    const { repo } = await twoSnapshots();
    const crashed = repo.startWrite();
    for (let i = 0; i < 4; i++) await crashed.saveBlob("data", seededBytes(`orphan${i}`, 30_000));
    // The writer dies here: its full packs are saved, its index never is.
    await new Promise((r) => setTimeout(r, 100));

    const report = await checkRepository(repo, { readData: "all" });
    expect(report.errors).toEqual([]);
    expect(report.warnings.length).toBeGreaterThan(0);
    expect(report.warnings[0]).toMatchObject({
      kind: "unreferenced_pack",
      message: expect.stringContaining("prune"),
    });
  });

  it("takes a shared lock, waits for none by default, and changes nothing", async () => {
    const { repo, root } = await twoSnapshots();
    const listing = async () => {
      const out: string[] = [];
      for (const d of ["index", "snapshots", "keys", "locks"])
        out.push(...(await readdir(join(root, d))).map((f) => `${d}/${f}`));
      return out.sort();
    };
    const before = await listing();
    await checkRepository(repo, { readData: "all" });
    expect(await listing()).toEqual(before);

    const prune = await acquireLock(repo, { exclusive: true, operation: "prune" });
    await expect(checkRepository(repo)).rejects.toMatchObject({ code: "repo_locked" });
    await prune.release();
    await expect(checkRepository(repo, { readData: { fraction: 2 } })).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });
});
