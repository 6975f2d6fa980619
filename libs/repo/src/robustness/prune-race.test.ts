// Prune racing a backup (§9: data a backup still references is never
// deleted). A backup process and a forget+prune process run against one
// repository at random offsets and in random modes; whichever way they
// serialize (prune waits for the backup's shared lock before deleting, or
// the backup meets prune's exclusive lock and fails fast with repo_locked or
// waits), the repository must check clean, every remaining snapshot must
// restore byte-identical, and the new snapshot, when written, must be
// complete. The source is built so that the new backup reuses chunks that
// only forgotten snapshots held: exactly the data prune plans to delete.
// Three deterministic tests force the worst interleavings.
//
// PWDR_PRUNE_RACE_ITERATIONS=<n> (default 5) and PWDR_PRUNE_RACE_SEED=<n>.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { makeTempDir } from "@pwdr/test-harness";
import { afterEach, describe, expect, it } from "vitest";
import { Backup } from "../archiver/archiver.js";
import { checkRepository } from "../checker/check-repository.js";
import { forget } from "../forget/forget.js";
import { acquireLock } from "../lock/acquire-lock.js";
import { prune } from "../pruner/prune.js";
import type { MaxUnused } from "../pruner/prune-plan.js";
import type { Repository } from "../repository.js";
import { listSnapshots, loadSnapshot } from "../snapshot/snapshot.js";
import { type DiskEntry, describeTree } from "../test-support/disk-tree.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import { Prng, seedFromEnv } from "../test-support/prng.js";
import {
  exists,
  lockFiles,
  now,
  openFresh,
  packsOf,
  referencedBlobs,
  repoFiles,
  restoreAndDiff,
  runAgent,
  smallParams,
  startWorker,
  stopWorkers,
  unavailableBlobs,
  type Worker,
  type WorkerOutput,
  waitForWorker,
} from "../test-support/robustness-helpers.js";

const ITERATIONS = Number(process.env.PWDR_PRUNE_RACE_ITERATIONS ?? 5);
const SEED = seedFromEnv("PWDR_PRUNE_RACE_SEED", 0x9a7e5eed);
const HOST = "race-host";
const KiB = 1024;

/**
 * Version k of the source: stable files, a file whose content in odd
 * versions comes back after an even version without it (so the racing
 * backup reuses chunks that only the snapshot being forgotten holds), files
 * new in every version (old ones become garbage) and small files.
 */
async function writeVersion(dir: string, k: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const d of ["stable", "v", "small"]) await mkdir(join(dir, d), { recursive: true });
  for (let i = 0; i < 5; i++)
    await writeFile(join(dir, "stable", `s${i}`), seededBytes(`stable-${i}`, 200 * KiB));
  // Odd versions (the racing backups) share this file; even ones (in between) have their own.
  await writeFile(join(dir, "cycle.bin"), seededBytes(k % 2 ? "cycle-odd" : `cycle-even-${k}`, 600 * KiB));
  for (let j = 0; j < 4; j++)
    await writeFile(join(dir, "v", `f${j}`), seededBytes(`ver-${k}-${j}`, 150 * KiB));
  await writeFile(
    join(dir, "mixed.bin"),
    Buffer.concat([seededBytes("mixed-head", 200 * KiB), seededBytes(`mixed-${k % 2}`, 200 * KiB)]),
  );
  for (let i = 0; i < 12; i++) {
    await writeFile(join(dir, "small", `n${i}`), seededBytes(`small-${(k + i) % 4}-${i}`, 1000 + i * 300));
  }
}

async function backUpInProcess(repo: Repository, source: string): Promise<string> {
  const backup = await Backup.start(repo, { host: HOST });
  await backup.addPath(source);
  return (await backup.finish()).id;
}

/** No data or index file prune removed while the backup surely held its shared lock. */
function deletionsInsideBackup(prune: WorkerOutput, backup: WorkerOutput): string[] {
  const from = backup.times.locked as number;
  const to = backup.times.finishCall as number;
  // 1 ms of slack for clock reading between processes.
  return prune.events
    .filter((e) => e.op === "remove" && (e.type === "data" || e.type === "index"))
    .filter((e) => e.t0 > from + 1 && e.t1 < to - 1)
    .map((e) => `${e.type}/${e.name.slice(0, 12)}`);
}

interface Verified {
  snapshots: string[];
}

/** Check (reading all data), every snapshot restores as recorded, and no lock is left. */
async function verify(
  root: string,
  source: string,
  expected: Map<string, Map<string, DiskEntry>>,
  context: string,
): Promise<Verified> {
  const repo = await openFresh(root);
  try {
    const report = await checkRepository(repo, { readData: "all" });
    expect(report.errors, context).toEqual([]);
    expect(report.warnings, context).toEqual([]);
    const snapshots = (await listSnapshots(repo)).map((s) => s.id);
    for (const id of snapshots) {
      const want = expected.get(id);
      expect(want, `${context}: unknown snapshot ${id}`).toBeDefined();
      const snap = await loadSnapshot(repo, id);
      expect(await unavailableBlobs(repo, snap.tree), `${context}: snapshot ${id.slice(0, 12)}`).toEqual([]);
      expect(
        await restoreAndDiff(repo, snap, source, want as Map<string, DiskEntry>),
        `${context}: ${id}`,
      ).toEqual([]);
    }
    expect(await lockFiles(root), context).toEqual([]);
    return { snapshots };
  } finally {
    await repo.close();
  }
}

const MODES = ["free", "prune-during-backup", "backup-during-prune", "backup-between-phases"] as const;
type Mode = (typeof MODES)[number];

function shuffle<T>(rng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("prune racing a backup", () => {
  afterEach(stopWorkers);

  it(
    `keeps every snapshot whole however a backup and a prune interleave (${ITERATIONS} iterations, seed ${SEED})`,
    async () => {
      const rng = new Prng(SEED);
      const { root, repo } = await tempRepository(smallParams("5a"));
      const base = makeTempDir("robust-prune-race");
      const source = join(base, "src");
      const expected = new Map<string, Map<string, DiskEntry>>();
      const outcomes: string[] = [];
      let modes: Mode[] = [];
      try {
        for (let it = 0; it < ITERATIONS; it++) {
          const barriers = join(base, `barriers-${it}`);
          await mkdir(barriers);
          await writeVersion(source, 2 * it);
          const older = await backUpInProcess(repo, source);
          expected.set(older, await describeTree(source));
          await writeVersion(source, 2 * it + 1);
          const wanted = await describeTree(source);

          // Each block of four iterations runs every mode once, in random order.
          if (it % MODES.length === 0) modes = shuffle(rng, MODES);
          const mode = modes[it % MODES.length] as Mode;
          const maxUnused = rng.pick<MaxUnused>([
            { percent: 0 },
            { percent: 10 },
            { bytes: 200 * KiB },
            "unlimited",
          ]);
          const keepLast = rng.int(1, 2);
          const lockWaitMs = rng.pick([0, 30_000]);
          const slowRemoveMs = rng.pick([0, 0, 20]);
          const delays = [rng.int(0, 1500), rng.int(0, 1500)] as const;
          const context = `seed ${SEED} iteration ${it}: mode ${mode}, maxUnused ${JSON.stringify(maxUnused)}, keepLast ${keepLast}, backup lockWaitMs ${lockWaitMs}, slow remove ${slowRemoveMs} ms, delays ${delays.join("/")} ms (reproduce: PWDR_PRUNE_RACE_SEED=${SEED} PWDR_PRUNE_RACE_ITERATIONS=${it + 1})`;
          const before = (await listSnapshots(repo)).map((s) => s.id);

          const f = (name: string) => join(barriers, name);
          const backupEnv = {
            OP: "backup",
            REPO: root,
            HOST,
            SOURCES: JSON.stringify([source]),
            LOCK_WAIT_MS: lockWaitMs,
            READY_FILE: f("backup-ready"),
          };
          const pruneEnv = {
            OP: "prune",
            REPO: root,
            FORGET: JSON.stringify({ keepLast }),
            MAX_UNUSED: JSON.stringify(maxUnused),
            SLOW_REMOVE_MS: slowRemoveMs,
            READY_FILE: f("prune-ready"),
          };
          let b: Worker;
          let p: Worker;
          // Every branch ends with both processes started.
          if (mode === "free") {
            // Both warmed up (modules loaded, repository open), then set off at random offsets.
            b = startWorker({ ...backupEnv, LOADED_FILE: f("backup-loaded"), START_FILE: f("backup-start") });
            p = startWorker({ ...pruneEnv, LOADED_FILE: f("prune-loaded"), START_FILE: f("prune-start") });
            await Promise.all([waitForWorker(b, f("backup-loaded")), waitForWorker(p, f("prune-loaded"))]);
            await Promise.all([
              sleep(delays[0] / 2).then(() => writeFile(f("backup-start"), "")),
              sleep(delays[1] / 2).then(() => writeFile(f("prune-start"), "")),
            ]);
          } else if (mode === "prune-during-backup") {
            // The backup holds its lock and keeps it a random while; prune plans meanwhile and must wait.
            b = startWorker({ ...backupEnv, FINISH_FILE: f("backup-finish") });
            p = startWorker({ ...pruneEnv, LOADED_FILE: f("prune-loaded"), START_FILE: f("prune-start") });
            await Promise.all([waitForWorker(b, f("backup-ready")), waitForWorker(p, f("prune-loaded"))]);
            await writeFile(f("prune-start"), "");
            await sleep(delays[0] / 2);
            await writeFile(f("backup-finish"), "");
          } else if (mode === "backup-during-prune") {
            // Prune has planned; the (warmed-up) backup comes while it takes the exclusive lock or deletes.
            b = startWorker({ ...backupEnv, LOADED_FILE: f("backup-loaded"), START_FILE: f("backup-start") });
            p = startWorker(pruneEnv);
            await waitForWorker(b, f("backup-loaded"));
            await waitForWorker(p, f("prune-ready"));
            await sleep(delays[0] / 5);
            await writeFile(f("backup-start"), "");
          } else {
            // Prune has planned and waits in its hook until the backup holds its lock: then it must wait for it.
            p = startWorker({ ...pruneEnv, GO_FILE: f("prune-go") });
            await waitForWorker(p, f("prune-ready"));
            b = startWorker({ ...backupEnv, FINISH_FILE: f("backup-finish") });
            await waitForWorker(b, f("backup-ready"));
            await writeFile(f("prune-go"), "");
            await sleep(delays[0]);
            await writeFile(f("backup-finish"), "");
          }
          const [bo, po] = await Promise.all([b.output, p.output]);

          expect(po.ok, `${context}: prune failed: ${po.message}`).toBe(true);
          if (!bo.ok) {
            // The only acceptable failure: it met prune's exclusive lock and was told not to wait.
            expect(bo.code, `${context}: backup failed: ${bo.message}`).toBe("repo_locked");
            expect(lockWaitMs, context).toBe(0);
            expect(bo.events, context).toEqual([]);
          } else {
            expected.set(bo.id as string, wanted);
            expect(deletionsInsideBackup(po, bo), context).toEqual([]);
            if (mode === "prune-during-backup" || mode === "backup-between-phases") {
              // The backup held its lock before prune could delete, so every deletion came after its snapshot.
              const saved = bo.events.find((e) => e.type === "snapshots" && e.op === "save")?.t1 as number;
              const removals = po.events.filter((e) => e.op === "remove" && e.type !== "snapshots");
              expect(
                removals.filter((e) => e.t0 < saved).map((e) => `${e.type}/${e.name.slice(0, 12)}`),
                context,
              ).toEqual([]);
            }
            expect(po.forgotten, context).not.toContain(bo.id);
          }
          const { snapshots } = await verify(root, source, expected, context);
          const want = new Set([
            ...before.filter((id) => !po.forgotten?.includes(id)),
            ...(bo.ok ? [bo.id] : []),
          ]);
          expect(new Set(snapshots), context).toEqual(want);
          if (bo.ok) {
            const fresh = await openFresh(root);
            const snap = await loadSnapshot(fresh, bo.id as string);
            await fresh.close();
            expect(snap.summary.files, context).toBe(
              [...wanted.values()].filter((e) => e.type === "file").length,
            );
          }
          outcomes.push(
            `${mode} (keepLast ${keepLast}, forgot ${po.forgotten?.length}, lockWaitMs ${lockWaitMs}, delays ${delays.join("/")}): backup ${bo.ok ? "ok" : bo.code}, prune deleted ${po.prune?.packsDeleted} packs, repacked ${po.prune?.repackPacks.length}, rescued ${po.prune?.packsRescued.length}`,
          );
          await repo.reloadIndex();
        }
      } finally {
        await repo.close();
        console.log(`prune race (seed ${SEED}):\n  ${outcomes.join("\n  ")}`);
      }
    },
    30_000 + ITERATIONS * 20_000,
  );

  /**
   * S1 holds X; S2 does not; S1 is forgotten; X comes back in the source.
   * Prune then plans to drop X's chunks: delete the packs only X used
   * ("delete"), or repack the pack X shares with live data ("repack").
   */
  async function forgottenChunkComesBack(variant: "delete" | "repack") {
    const { root, repo } = await tempRepository(smallParams("7b"));
    const source = join(makeTempDir("robust-worst"), "src");
    await mkdir(join(source, "keep"), { recursive: true });
    const keepSize = variant === "delete" ? 100 * KiB : 40 * KiB;
    for (let i = 0; i < 3; i++)
      await writeFile(join(source, "keep", `k${i}`), seededBytes(`keep-${i}`, keepSize));
    const x = seededBytes("x", variant === "delete" ? 1536 * KiB : 30 * KiB);
    await writeFile(join(source, "x.bin"), x);
    const s1 = await backUpInProcess(repo, source);
    await rm(join(source, "x.bin"));
    const s2 = await backUpInProcess(repo, source);
    const expected = new Map([[s2, await describeTree(source)]]);
    // x's chunks: data blobs of S1 that S2 does not reference (S1's own trees are not coming back).
    const s2Blobs = await referencedBlobs(repo, (await loadSnapshot(repo, s2)).tree);
    const s1Blobs = await referencedBlobs(repo, (await loadSnapshot(repo, s1)).tree);
    const xOnly = [...s1Blobs].filter((id) => !s2Blobs.has(id) && repo.index.lookup(id)[0]?.type === "data");
    expect(xOnly.length).toBeGreaterThan(0);
    await forget(repo, { keepLast: 1 });
    await writeFile(join(source, "x.bin"), x);
    expected.set("", await describeTree(source));
    const xPacks = packsOf(repo, xOnly);
    return { root, repo, source, expected, xPacks };
  }

  it.each(["delete", "repack"] as const)(
    "keeps what a snapshot written after prune planned but before it deleted references (%s)",
    async (variant) => {
      const { root, repo, source, expected, xPacks } = await forgottenChunkComesBack(variant);
      let late: WorkerOutput | undefined;
      const result = await prune(repo, {
        maxUnused: variant === "delete" ? "unlimited" : { percent: 0 },
        hooks: {
          // The worst moment: after planning (x's packs are doomed), before the exclusive lock.
          beforeExclusiveLock: async () => {
            late = await startWorker({ OP: "backup", REPO: root, HOST, SOURCES: JSON.stringify([source]) })
              .output;
          },
        },
      });
      await repo.close();
      expect(late?.ok, late?.message).toBe(true);
      const doomed = variant === "delete" ? result.plan.deletePacks : result.plan.repackPacks;
      const hit = [...xPacks].filter((p) => doomed.includes(p));
      expect(hit.length, "the plan must doom a pack holding x's chunks").toBeGreaterThan(0);
      expect(result.packsRescued).toEqual(expect.arrayContaining(hit));
      expected.set(late?.id as string, expected.get("") as Map<string, DiskEntry>);
      expected.delete("");
      const { snapshots } = await verify(root, source, expected, `worst interleaving (${variant})`);
      expect(snapshots).toHaveLength(2);
    },
  );

  it("waits for a backup that holds its shared lock before deleting, and keeps what it references", async () => {
    const { root, repo, source, expected, xPacks } = await forgottenChunkComesBack("delete");
    const barriers = makeTempDir("robust-wait");
    // The backup has read x (so it reuses x's doomed chunks) and holds its lock, not finished yet.
    const backup = startWorker({
      OP: "backup",
      REPO: root,
      HOST,
      SOURCES: JSON.stringify([source]),
      ADDED_FILE: join(barriers, "added"),
      FINISH_FILE: join(barriers, "finish"),
    });
    await waitForWorker(backup, join(barriers, "added"));
    const phases: { phase: string; t: number }[] = [];
    const pruning = prune(repo, {
      maxUnused: "unlimited",
      onProgress: (p) => {
        if (phases.at(-1)?.phase !== p.phase) phases.push({ phase: p.phase, t: now() });
      },
    });
    pruning.catch(() => {});
    const deadline = Date.now() + 30_000;
    while (!phases.some((p) => p.phase === "exclusive-lock") && Date.now() < deadline) await sleep(5);
    const filesBefore = await repoFiles(root);
    await sleep(600);
    // Still waiting: nothing after asking for the exclusive lock, nothing deleted.
    expect(phases.at(-1)?.phase).toBe("exclusive-lock");
    expect(await repoFiles(root)).toEqual(filesBefore);
    await writeFile(join(barriers, "finish"), "");
    const out = await backup.output;
    const result = await pruning;
    await repo.close();
    expect(out.ok, out.message).toBe(true);
    const snapshotSaved = out.events.find((e) => e.type === "snapshots" && e.op === "save")?.t1 as number;
    const afterExclusive = phases[phases.findIndex((p) => p.phase === "exclusive-lock") + 1]?.t as number;
    expect(afterExclusive).toBeGreaterThan(snapshotSaved);
    const hit = [...xPacks].filter((p) => result.plan.deletePacks.includes(p));
    expect(hit.length).toBeGreaterThan(0);
    expect(result.packsRescued).toEqual(expect.arrayContaining(hit));
    expected.set(out.id as string, expected.get("") as Map<string, DiskEntry>);
    expected.delete("");
    await verify(root, source, expected, "prune waiting for a backup");
  });

  it("a backup meeting prune's exclusive lock fails fast with repo_locked, or waits with lockWaitMs", async () => {
    const { root, repo } = await tempRepository(smallParams("3d"));
    const source = join(makeTempDir("robust-locked"), "src");
    await writeVersion(source, 0);
    const first = await backUpInProcess(repo, source);
    const expected = new Map([[first, await describeTree(source)]]);
    const barriers = makeTempDir("robust-locked-barriers");
    const env = { OP: "backup", REPO: root, HOST, SOURCES: JSON.stringify([source]) };

    const lock = await acquireLock(repo, { exclusive: true, operation: "prune (deleting)" });
    const files = await repoFiles(root);
    const fast = await startWorker({ ...env, LOCK_WAIT_MS: 0 }).output;
    expect(fast).toMatchObject({ ok: false, code: "repo_locked" });
    expect(fast.message).toContain("prune (deleting)");
    const cli = await runAgent(["backup", "--host", HOST, source], root);
    expect(cli.code).toBe(14);
    expect(await repoFiles(root)).toEqual(files);

    const waiting = startWorker({ ...env, LOCK_WAIT_MS: 60_000, READY_FILE: join(barriers, "ready") });
    await sleep(2000);
    expect(await exists(join(barriers, "ready"))).toBe(false);
    const released = now();
    await lock.release();
    const out = await waiting.output;
    expect(out.ok, out.message).toBe(true);
    expect(out.times.locked).toBeGreaterThan(released);
    expect(await repoFiles(root)).not.toEqual(files);
    expected.set(out.id as string, expected.get(first) as Map<string, DiskEntry>);
    await repo.close();
    await verify(root, source, expected, "backup after the exclusive lock");
  });
});
