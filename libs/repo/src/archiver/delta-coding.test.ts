import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { checkRepository } from "../checker/check-repository.js";
import { forget } from "../forget/forget.js";
import type { PackEntry } from "../pack/pack-format.js";
import { prune } from "../pruner/prune.js";
import { Repository } from "../repository.js";
import { restoreSnapshot } from "../restorer/restorer.js";
import { listSnapshots, type SnapshotEntry } from "../snapshot/snapshot.js";
import { PASSWORD, tempRepository } from "../test-support/fixtures.js";
import { flipByte, packPath } from "../test-support/snapshot-builder.js";
import { Backup } from "./archiver.js";

/** A table dump's rows: `changed(i)` rows get a new value, `dropped(i)` rows go, as an UPDATE moves them. */
function rows(count: number, changed = (_i: number) => false, dropped = (_i: number) => false): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (dropped(i)) continue;
    const h = createHash("md5")
      .update(`${i}:${changed(i) ? "v2" : "v1"}`)
      .digest("hex");
    lines.push(
      `${i}\t${h.slice(0, 12)}\tnet-${h.slice(12, 16)}\t-${parseInt(h.slice(16, 18), 16) % 60}\t${h}\n`,
    );
  }
  return Buffer.from(lines.join(""));
}

const ROWS = 60_000; // ~4.6 MiB: several chunks of the default 1 MiB average

/** Writes the day's table into `dir`, then backs up `dir` and the same bytes as a dump stream. */
async function backUp(repo: Repository, dir: string, table: Buffer, parent?: SnapshotEntry) {
  await writeFile(join(dir, "table.dat"), table);
  const backup = await Backup.start(repo, parent ? { parent } : {});
  await backup.addPath(dir);
  await backup.addStream(
    "/postgres/db/data/public.wifi.dump",
    (async function* () {
      yield table;
    })(),
  );
  const done = await backup.finish();
  const [entry] = (await listSnapshots(repo)).filter((s) => s.id === done.id);
  return { ...done, entry: entry as SnapshotEntry };
}

async function packEntries(repo: Repository): Promise<[string, PackEntry[]][]> {
  const fresh = await Repository.open(repo.backend, PASSWORD);
  await fresh.loadIndex();
  return [...fresh.index.packs()];
}

async function restoredTable(repo: Repository, snapshot: SnapshotEntry, dir: string): Promise<Buffer> {
  const target = await makeTempDir("pwdr-delta-restore-");
  await restoreSnapshot(repo, snapshot, { target });
  return readFile(join(target, dir, "table.dat"));
}

async function setup() {
  const t = await tempRepository();
  const dir = await makeTempDir("pwdr-delta-src-");
  await mkdir(dir, { recursive: true });
  return { ...t, dir };
}

describe("delta-coded blobs (§5.1)", () => {
  it("stores a scattered edit of a file as deltas against the parent's chunks, restorable after the parent is pruned", async () => {
    const { repo, dir } = await setup();
    const day1 = rows(ROWS);
    const one = await backUp(repo, dir, day1);
    const dayOne = new Set((await packEntries(repo)).flatMap(([, e]) => e.map((x) => x.id)));

    // Every 200th row updated: PostgreSQL writes the new version elsewhere, so
    // it leaves its place and shows up at the end; every chunk changes.
    const moved = Array.from({ length: ROWS / 200 }, (_, k) => `${k * 200 + 7}\tupdated-${k}\n`);
    const day2 = Buffer.concat([rows(ROWS, undefined, (i) => i % 200 === 7), Buffer.from(moved.join(""))]);
    const two = await backUp(repo, dir, day2, one.entry);

    const first = one.snapshot.summary.addedBytes;
    // The file and the stream: both changed everywhere, both delta-coded.
    expect(two.snapshot.summary.addedBytes).toBeLessThan(first * 0.05);
    const entries = (await packEntries(repo)).flatMap(([, e]) => e);
    const added = entries.filter((e) => e.type === "data" && !dayOne.has(e.id));
    expect(added.length).toBeGreaterThanOrEqual(2);
    // All but a last chunk too short to gain from a delta.
    expect(added.filter((e) => e.bases === undefined && e.rawLength > 64 * 1024)).toEqual([]);
    for (const d of added) for (const b of d.bases ?? []) expect(dayOne.has(b)).toBe(true);

    expect((await restoredTable(repo, two.entry, dir)).equals(day2)).toBe(true);
    expect((await restoredTable(repo, one.entry, dir)).equals(day1)).toBe(true);

    await forget(repo, { keepLast: 1 });
    await prune(repo);
    const fresh = await Repository.open(repo.backend, PASSWORD);
    expect((await restoredTable(fresh, two.entry, dir)).equals(day2)).toBe(true);
    const report = await checkRepository(fresh, { readData: "all" });
    expect(report.errors).toEqual([]);
  }, 60_000);

  it("keeps delta-coded blobs and their bases intact through a repack", async () => {
    const { repo, dir } = await setup();
    const one = await backUp(repo, dir, rows(ROWS));
    const day2 = rows(ROWS, (i) => i % 200 === 7);
    // Stored beside the deltas and gone by day 3: their pack is then partly unused.
    await writeFile(
      join(dir, "trash.bin"),
      rows(4000, () => true),
    );
    const two = await backUp(repo, dir, day2, one.entry);
    await rm(join(dir, "trash.bin"));
    const three = await backUp(repo, dir, day2, two.entry);
    const before = (await packEntries(repo)).flatMap(([, e]) => e).filter((e) => e.bases !== undefined);
    expect(before.length).toBeGreaterThan(0);

    await forget(repo, { keepLast: 1 });
    const pruned = await prune(repo, { maxUnused: { percent: 0 } });
    expect(pruned.plan.repackPacks.length).toBeGreaterThan(0);
    const after = new Map((await packEntries(repo)).flatMap(([, e]) => e).map((e) => [e.id, e]));
    for (const d of before) expect(after.get(d.id)?.bases).toEqual(d.bases);
    const fresh = await Repository.open(repo.backend, PASSWORD);
    expect((await restoredTable(fresh, three.entry, dir)).equals(day2)).toBe(true);
    expect((await checkRepository(fresh, { readData: "all" })).errors).toEqual([]);
  }, 60_000);

  it("codes a third day against the first day's chunks, never against a delta", async () => {
    const { repo, dir } = await setup();
    const one = await backUp(repo, dir, rows(ROWS));
    const two = await backUp(
      repo,
      dir,
      rows(ROWS, (i) => i % 300 === 1),
      one.entry,
    );
    const day3 = rows(ROWS, (i) => i % 300 === 1 || i % 250 === 3);
    const three = await backUp(repo, dir, day3, two.entry);
    expect(three.snapshot.summary.addedBytes).toBeLessThan(one.snapshot.summary.addedBytes * 0.05);
    const entries = (await packEntries(repo)).flatMap(([, e]) => e);
    const deltaIds = new Set(entries.filter((e) => e.bases !== undefined).map((e) => e.id));
    expect(deltaIds.size).toBeGreaterThan(0);
    for (const e of entries) for (const b of e.bases ?? []) expect(deltaIds.has(b)).toBe(false);
    expect((await restoredTable(repo, three.entry, dir)).equals(day3)).toBe(true);
  }, 60_000);

  it("stores new content whole, with no delta against an unrelated parent", async () => {
    const { repo, dir } = await setup();
    const one = await backUp(repo, dir, rows(ROWS));
    const other = Buffer.from(rows(ROWS).toString("latin1").split("").reverse().join(""), "latin1");
    const two = await backUp(repo, dir, other, one.entry);
    const entries = (await packEntries(repo)).flatMap(([, e]) => e);
    expect(entries.filter((e) => e.bases !== undefined)).toEqual([]);
    expect((await restoredTable(repo, two.entry, dir)).equals(other)).toBe(true);
  }, 60_000);

  it("reports the files that depend on a damaged base as damaged, and restoring them fails loudly", async () => {
    const { repo, root, dir } = await setup();
    const one = await backUp(repo, dir, rows(ROWS));
    const two = await backUp(
      repo,
      dir,
      rows(ROWS, (i) => i % 200 === 7),
      one.entry,
    );
    const packs = await packEntries(repo);
    const delta = packs.flatMap(([, e]) => e).find((e) => e.bases !== undefined) as PackEntry;
    const baseId = delta.bases?.[0];
    const [basePack, baseEntries] = packs.find(([, e]) => e.some((x) => x.id === baseId && !x.bases)) as [
      string,
      PackEntry[],
    ];
    const base = baseEntries.find((x) => x.id === baseId) as PackEntry;
    await flipByte(packPath(root, basePack), base.offset + 20);

    const fresh = await Repository.open(repo.backend, PASSWORD);
    const report = await checkRepository(fresh, { readData: "all" });
    const affected = report.errors.flatMap((e) => e.affected);
    expect(report.damagedSnapshots.sort()).toEqual([one.id, two.id].sort());
    expect(affected.find((a) => a.snapshot === two.id)?.paths).toContain(`${dir}/table.dat`);
    expect(report.errors.flatMap((e) => e.blobs)).toContain(delta.id);
    await expect(
      restoreSnapshot(fresh, two.entry, { target: await makeTempDir("pwdr-delta-bad-") }),
    ).rejects.toMatchObject({ code: "data_corrupt" });
  }, 60_000);

  it("writes no deltas into a format 1 repository, which older readers must still read", async () => {
    const { repo, root, dir } = await setup();
    const config = JSON.parse(await readFile(join(root, "config"), "utf8"));
    await writeFile(join(root, "config"), JSON.stringify({ ...config, version: 1 }));
    const old = await Repository.open(repo.backend, PASSWORD);
    expect(old.deltaCoding).toBe(false);
    const one = await backUp(old, dir, rows(ROWS));
    await backUp(
      old,
      dir,
      rows(ROWS, (i) => i % 200 === 7),
      one.entry,
    );
    const entries = (await packEntries(old)).flatMap(([, e]) => e);
    expect(entries.filter((e) => e.bases !== undefined)).toEqual([]);
  }, 60_000);
});
