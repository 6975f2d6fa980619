import { spawn } from "node:child_process";
import { cp, mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalBackend } from "../backend/local-backend.js";
import { checkRepository } from "../checker/check-repository.js";
import { Repository } from "../repository.js";
import { restoreSnapshot } from "../restorer/restorer.js";
import { listSnapshots } from "../snapshot/snapshot.js";
import { PASSWORD, seededBytes, tempRepository } from "../test-support/fixtures.js";
import { treeDigest } from "../test-support/tree-digest.js";
import { Backup } from "./archiver.js";

const FIXTURE = join(import.meta.dirname, "../test-support/crash-backup.ts");
const SMALL = {
  packSize: 256 * 1024,
  chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024, gearSeed: "42".repeat(32) },
};

/** ≥30 crash points over every write phase: packs, index, snapshot, plus kills at random moments. */
const CRASH_POINTS = [
  ...Array.from({ length: 10 }, (_, i) => [`data:${i + 1}:before`, `data:${i + 1}:partial`]).flat(),
  "index:1:before",
  "index:1:partial",
  "snapshots:1:before",
  "snapshots:1:partial",
  ...[150, 300, 450, 600, 750, 900].map((ms) => `kill-after:${ms}`),
];

async function writeSource(dir: string, version: number): Promise<void> {
  await mkdir(join(dir, "scans"), { recursive: true });
  for (let i = 0; i < 24; i++) {
    // Version 1 changes a third of the files and adds new ones.
    const seed = i % 3 === 0 ? `v${version}-${i}` : `v0-${i}`;
    await writeFile(join(dir, "scans", `s${i}.bin`), seededBytes(seed, 150_000 + i * 1000));
  }
  if (version > 0)
    for (let i = 0; i < 8; i++) await writeFile(join(dir, `new${i}.bin`), seededBytes(`new${i}`, 200_000));
}

async function packBytes(root: string): Promise<number> {
  let total = 0;
  for (const d of await readdir(join(root, "data"))) {
    for (const f of await readdir(join(root, "data", d)))
      if (!f.startsWith(".")) total += (await stat(join(root, "data", d, f))).size;
  }
  return total;
}

function runFixture(
  env: Record<string, string>,
  killAfterMs?: number,
): Promise<{ signal: string | null; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", FIXTURE], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on("data", () => {});
    // The kill starts counting once the process is up (its first output or a short delay).
    const timer =
      killAfterMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), 700 + killAfterMs) : undefined;
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ signal, code, stderr });
    });
  });
}

async function restoreDigest(
  repo: Repository,
  snapshotTree: { tree: string; paths: string[] },
  into: string,
  base: string,
) {
  await restoreSnapshot(repo, snapshotTree, { target: into });
  return treeDigest(join(into, base));
}

describe("a backup killed with SIGKILL at any point leaves a repository that works", () => {
  let pristine: string;
  let source: string;
  let v0: Map<string, string>;
  let v1: Map<string, string>;
  let fullCost: number;

  beforeAll(async () => {
    const { root, repo } = await tempRepository(SMALL);
    source = join(await makeTempDir("pwdr-crash-src-"), "site");
    await writeSource(source, 0);
    v0 = await treeDigest(source);
    const first = await Backup.start(repo, { host: "crash-test" });
    await first.addPath(source);
    await first.finish();
    await repo.close();
    pristine = root;
    await writeSource(source, 1);
    v1 = await treeDigest(source);
    // What an uninterrupted backup of version 1 adds: the yardstick for "reuses what was stored".
    const reference = join(await makeTempDir("pwdr-crash-ref-"), "repo");
    await cp(pristine, reference, { recursive: true });
    const refRepo = await Repository.open(new LocalBackend(reference), PASSWORD);
    const ref = await Backup.start(refRepo, { host: "crash-test" });
    await ref.addPath(source);
    fullCost = (await ref.finish()).snapshot.summary.addedBytes;
    await refRepo.close();
  });

  it.each(CRASH_POINTS)("crash at %s", async (point) => {
    const work = await makeTempDir("pwdr-crash-");
    const root = join(work, "repo");
    await cp(pristine, root, { recursive: true });
    const before = await packBytes(root);
    const env = { REPO: root, PASSWORD, SOURCE: source };
    const killAfter = point.startsWith("kill-after:") ? Number(point.split(":")[1]) : undefined;
    const run = await runFixture(killAfter === undefined ? { ...env, CRASH_AT: point } : env, killAfter);
    if (killAfter === undefined) expect(run.signal, run.stderr).toBe("SIGKILL");
    const written = (await packBytes(root)) - before;

    const repo = await Repository.open(new LocalBackend(root), PASSWORD);
    try {
      const report = await checkRepository(repo);
      expect(report.errors, JSON.stringify(report.errors)).toEqual([]);

      const snaps = await listSnapshots(repo);
      await repo.loadIndex();
      const oldest = snaps[0] as NonNullable<(typeof snaps)[0]>;
      expect(await restoreDigest(repo, oldest, join(work, "r0"), source)).toEqual(v0);

      const next = await Backup.start(repo, { host: "crash-test" });
      await next.addPath(source);
      const done = await next.finish();
      // Reused what the killed run stored: it rewrites less than 10 % of it.
      const slack = 64 * 1024;
      expect(done.snapshot.summary.addedBytes).toBeLessThanOrEqual(
        Math.max(0, fullCost - 0.9 * written) + slack,
      );
      await repo.loadIndex();
      expect(await restoreDigest(repo, done.snapshot, join(work, "r1"), source)).toEqual(v1);
      expect((await checkRepository(repo, { readData: "all" })).errors).toEqual([]);
    } finally {
      await repo.close();
      await rm(work, { recursive: true, force: true });
    }
  });
});
