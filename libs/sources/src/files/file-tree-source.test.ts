import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { chmod, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Backup, type BackupResult, listFiles, type Repository, type SnapshotEntry } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgTempRepository } from "../test-support/pg-temp-repo.js";
import { backupFileTree, type FileTreeBackupOptions, fileTreeBackupOptions } from "./backup-file-tree.js";
import { restoreFileTree } from "./restore-file-tree.js";

afterAll(stopAll);

let root: string;
let data: string;
let logs: string;
let repo: Repository;
let first: BackupResult;

/** As the recovery-point runner does it: one Backup per source, with the source's walk options. */
async function run(options: FileTreeBackupOptions, parent?: SnapshotEntry): Promise<BackupResult> {
  const meta: Record<string, unknown> = {};
  const backup = await Backup.start(repo, {
    source: { kind: "files", name: "data" },
    meta,
    host: "pi-test",
    ...fileTreeBackupOptions(options),
    ...(parent ? { parent } : {}),
  });
  try {
    const source = await backupFileTree({ backup }, options);
    Object.assign(meta, { version: source.version, counts: source.counts, ...source.meta });
    return await backup.finish();
  } catch (err) {
    await backup.abort();
    throw err;
  }
}

/** Incompressible, so stored sizes show what was re-read. */
const SCAN_A = randomBytes(8192).toString("hex");
const SCAN_B = randomBytes(8192).toString("hex");

function tree(dir: string): Record<string, string> {
  return {
    [join(dir, "data/scans/2026-11-25/wifi.json")]: SCAN_A,
    [join(dir, "data/scans/2026-11-26/wifi.json")]: SCAN_B,
    [join(dir, "data/scans/2026-11-26/gps.csv")]: "lat,lon\n1,2\n",
    [join(dir, "data/cache/tiles.bin")]: "cache".repeat(100),
    [join(dir, "data/scans/partial.tmp")]: "half written",
    [join(dir, "var/log/piwardrive/app.log")]: "started\n".repeat(100),
  };
}

async function snapshotFiles(snapshot: BackupResult["snapshot"]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of listFiles(repo, snapshot, { recursive: true }))
    if (e.type === "file") out.push(e.path);
  return out.sort();
}

beforeAll(async () => {
  root = makeTempDir("pwdr-files-src-");
  for (const [path, text] of Object.entries(tree(root))) {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  }
  await chmod(join(root, "var/log/piwardrive/app.log"), 0o640);
  data = join(root, "data");
  logs = join(root, "var/log/piwardrive");
  repo = await pgTempRepository();
  first = await run({
    paths: [data, logs],
    optionalPaths: [join(root, "home/piwardrive")],
    exclude: ["*.tmp", `${data}/cache/**`],
  });
});

describe("application data backup", () => {
  it("stores the trees without excluded entries and records what was asked", async () => {
    const files = await snapshotFiles(first.snapshot);
    expect(files).toEqual(
      [
        `${data}/scans/2026-11-25/wifi.json`,
        `${data}/scans/2026-11-26/gps.csv`,
        `${data}/scans/2026-11-26/wifi.json`,
        `${logs}/app.log`,
      ].sort(),
    );
    expect(first.snapshot.meta).toMatchObject({
      version: "files/1",
      paths: [data, logs],
      missingOptional: [join(root, "home/piwardrive")],
      exclude: ["*.tmp", `${data}/cache/**`],
    });
  });

  it("skips unchanged files against the parent and stores only what changed", async () => {
    await writeFile(join(data, "scans/2026-11-26/gps.csv"), "lat,lon\n1,2\n3,4\n");
    const parent = { id: first.id, ...first.snapshot };
    const second = await run({ paths: [data, logs], exclude: ["*.tmp", `${data}/cache/**`] }, parent);
    expect(first.snapshot.summary.addedBytes).toBeGreaterThan(16_000);
    expect(second.snapshot.summary.addedBytes).toBeLessThan(4096);
    expect(second.snapshot.parent).toBe(first.id);
  });

  it("refuses a missing required path and a relative one, naming them", async () => {
    await expect(run({ paths: [join(root, "nope")] })).rejects.toThrow(
      /application data paths do not exist: .*nope/,
    );
    await expect(run({ paths: ["data"] })).rejects.toThrow(/must be absolute: data/);
  });
});

describe("application data restore", () => {
  it("restores everything under a prefix with modes", async () => {
    const target = makeTempDir("pwdr-files-restore-");
    const result = await restoreFileTree({ repo, snapshotId: first.id }, { targetPrefix: target });
    expect(result.files).toBe(4);
    const log = join(target, logs, "app.log");
    expect(await readFile(log, "utf8")).toBe(tree(root)[join(logs, "app.log")]);
    expect((await stat(log)).mode & 0o777).toBe(0o640);
    expect(await readdir(join(target, data))).toEqual(["scans"]);
  });

  it("restores one sub-path back to its original place, leaving the rest alone", async () => {
    const day = join(data, "scans/2026-11-25");
    await rm(day, { recursive: true });
    await writeFile(join(logs, "app.log"), "newer log");
    const result = await restoreFileTree({ repo, snapshotId: first.id }, { paths: [day] });
    expect(result.paths).toEqual([day]);
    expect(await readFile(join(day, "wifi.json"), "utf8")).toBe(tree(root)[join(day, "wifi.json")]);
    expect(await readFile(join(logs, "app.log"), "utf8")).toBe("newer log");
  });

  it("restores a single file to another place through the path map", async () => {
    const elsewhere = makeTempDir("pwdr-files-map-");
    const file = join(data, "scans/2026-11-26/wifi.json");
    const result = await restoreFileTree(
      { repo, snapshotId: first.id },
      { paths: [file], pathMap: { [data]: join(elsewhere, "srv/data") } },
    );
    const placed = join(elsewhere, "srv/data/scans/2026-11-26/wifi.json");
    expect(result.placements).toEqual([{ path: file, target: placed }]);
    expect(await readFile(placed, "utf8")).toBe(tree(root)[file]);
  });

  it("maps a whole tree and leaves the other paths to the prefix", async () => {
    const elsewhere = makeTempDir("pwdr-files-map2-");
    const result = await restoreFileTree(
      { repo, snapshotId: first.id },
      { targetPrefix: join(elsewhere, "rest"), pathMap: { [data]: join(elsewhere, "data") } },
    );
    expect(result.placements).toEqual([
      { path: data, target: join(elsewhere, "data") },
      { path: logs, target: join(elsewhere, "rest", logs) },
    ]);
    expect(await readdir(join(elsewhere, "data/scans"))).toEqual(["2026-11-25", "2026-11-26"]);
    expect(await readFile(join(elsewhere, "rest", logs, "app.log"), "utf8")).toContain("started");
  });

  it("refuses a map that renames a file, a relative map, and paths the snapshot lacks", async () => {
    const ctx = { repo, snapshotId: first.id };
    const file = join(logs, "app.log");
    await expect(
      restoreFileTree(ctx, { paths: [file], pathMap: { [file]: "/tmp/other.log" } }),
    ).rejects.toThrow(/renames the file/);
    await expect(restoreFileTree(ctx, { pathMap: { data: "/tmp/x" } })).rejects.toThrow(
      /absolute on both sides/,
    );
    await expect(restoreFileTree(ctx, { paths: ["/etc/passwd"] })).rejects.toThrow(
      /not in the snapshot: \/etc\/passwd/,
    );
  });

  it("refuses a path the snapshot lacks, or one with '..', before restoring any of the others", async () => {
    const target = makeTempDir("pwdr-files-missing-");
    const ctx = { repo, snapshotId: first.id };
    const present = join(data, "scans/2026-11-26");
    const missing = join(data, "scans/2027-01-01");
    await expect(
      restoreFileTree(ctx, { targetPrefix: target, paths: [present, missing] }),
    ).rejects.toMatchObject({ code: "path_not_found", message: expect.stringContaining(missing) });
    await expect(
      restoreFileTree(ctx, { targetPrefix: target, paths: [`${data}/scans/../cache`] }),
    ).rejects.toMatchObject({ code: "invalid_argument", message: expect.stringContaining("..") });
    expect(await readdir(target)).toEqual([]);
  });

  it("writes nothing in a dry run", async () => {
    const target = makeTempDir("pwdr-files-dry-");
    const result = await restoreFileTree(
      { repo, snapshotId: first.id },
      { targetPrefix: target, dryRun: true },
    );
    expect(result.files).toBe(4);
    expect(await readdir(target)).toEqual([]);
  });
});
