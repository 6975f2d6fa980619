// Two hosts back up into one repository at the same moment (§8: several
// writers share nothing but the backend). Each host is a separate process;
// both take their shared lock, wait on a barrier file, then read and store
// their data at once. Afterwards: check is clean, both snapshots restore
// byte-identical, a later backup of both hosts' data adds almost nothing
// (dedup across hosts goes through the index), and prune keeps it all.
//
// PWDR_CONCURRENT_WRITERS_ROUNDS=<n> (default 1) repeats the race with new data.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterEach, describe, expect, it } from "vitest";
import { checkRepository } from "../checker/check-repository.js";
import { loadSnapshot } from "../snapshot/snapshot.js";
import { type DiskEntry, describeTree } from "../test-support/disk-tree.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import {
  type FileEvent,
  lockFiles,
  openFresh,
  packBytes,
  restoreAndDiff,
  runAgent,
  smallParams,
  startWorker,
  stopWorkers,
  unavailableBlobs,
  type WorkerOutput,
  waitForWorker,
} from "../test-support/robustness-helpers.js";

const ROUNDS = Number(process.env.PWDR_CONCURRENT_WRITERS_ROUNDS ?? 1);
const MiB = 1024 * 1024;
const HOSTS = ["host-a", "host-b"] as const;

/** Same shared files (content) on both hosts, under each host's own path, plus files only that host has. */
async function writeHostData(base: string, host: string, round: number): Promise<number> {
  const dir = join(base, host);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, "shared", "nested"), { recursive: true });
  await mkdir(join(dir, "own"), { recursive: true });
  let bytes = 0;
  const put = async (path: string, data: Buffer) => {
    await writeFile(path, data);
    bytes += data.length;
  };
  for (let i = 0; i < 6; i++) {
    // Round r keeps most of round r-1's shared content: later rounds dedup against earlier ones too.
    const seed = i < 2 ? `shared-r${round}-${i}` : `shared-${i}`;
    await put(join(dir, "shared", i % 2 ? "nested" : "", `s${i}.bin`), seededBytes(seed, MiB + i * 4099));
  }
  await put(join(dir, "shared", "notes.txt"), Buffer.from("the same text on every host\n".repeat(2000)));
  for (let i = 0; i < 3; i++)
    await put(join(dir, "own", `o${i}.bin`), seededBytes(`${host}-r${round}-${i}`, MiB / 2 + i));
  await put(join(dir, "own", "hostname"), Buffer.from(`${host}\n`));
  return bytes;
}

function dataWrites(out: WorkerOutput): FileEvent[] {
  return out.events.filter((e) => e.op === "save" && e.type === "data");
}

describe("two writers at once", () => {
  afterEach(stopWorkers);

  it(
    `two host processes back up overlapping data into one repository at the same time (${ROUNDS} round(s))`,
    async () => {
      const { root } = await tempRepository(smallParams("c3", 512 * 1024));
      const base = makeTempDir("robust-writers");
      const barriers = makeTempDir("robust-writers-barriers");
      const kept: { id: string; dir: string; expected: Map<string, DiskEntry> }[] = [];

      for (let round = 0; round < ROUNDS; round++) {
        const sizes = await Promise.all(HOSTS.map((h) => writeHostData(base, h, round)));
        const dataSize = (sizes[0] ?? 0) + (sizes[1] ?? 0);
        const expected = await Promise.all(HOSTS.map((h) => describeTree(join(base, h))));
        const go = join(barriers, `go-${round}`);
        const workers = HOSTS.map((host) => {
          const ready = join(barriers, `ready-${round}-${host}`);
          return {
            ready,
            ...startWorker({
              OP: "backup",
              REPO: root,
              HOST: host,
              SOURCES: JSON.stringify([join(base, host)]),
              READY_FILE: ready,
              GO_FILE: go,
              // A backup of this data takes tens of milliseconds now; each
              // pack commit waiting a little keeps both writers' pack writes
              // spread wider than the few milliseconds between their starts.
              SLOW_COMMIT_MS: "15",
            }),
          };
        });
        // Both hold their shared lock before either reads a byte; then both go.
        await Promise.all(workers.map((w) => waitForWorker(w, w.ready)));
        await writeFile(go, "go");
        const [a, b] = (await Promise.all(workers.map((w) => w.output))) as [WorkerOutput, WorkerOutput];
        expect(a, JSON.stringify(a.message)).toMatchObject({ ok: true });
        expect(b, JSON.stringify(b.message)).toMatchObject({ ok: true });

        // They really overlapped: both held the lock at once, read at once and wrote packs at once.
        const t = (o: WorkerOutput, k: string) => o.times[k] as number;
        expect(Math.max(t(a, "locked"), t(b, "locked"))).toBeLessThan(
          Math.min(t(a, "finished"), t(b, "finished")),
        );
        expect(Math.max(t(a, "addStart"), t(b, "addStart"))).toBeLessThan(
          Math.min(t(a, "addEnd"), t(b, "addEnd")),
        );
        const [wa, wb] = [dataWrites(a), dataWrites(b)];
        expect(wa.length).toBeGreaterThan(2);
        expect(wb.length).toBeGreaterThan(2);
        const span = (w: FileEvent[]) => [Math.min(...w.map((e) => e.t0)), Math.max(...w.map((e) => e.t1))];
        const [sa, sb] = [span(wa), span(wb)] as [number[], number[]];
        expect(Math.max(sa[0] as number, sb[0] as number)).toBeLessThan(
          Math.min(sa[1] as number, sb[1] as number),
        );

        const repo = await openFresh(root);
        try {
          const report = await checkRepository(repo, { readData: "all" });
          expect(report.errors).toEqual([]);
          expect(report.warnings).toEqual([]);
          for (const [i, out] of [a, b].entries()) {
            const snap = await loadSnapshot(repo, out.id as string);
            expect(snap.host).toBe(HOSTS[i]);
            expect(
              await restoreAndDiff(
                repo,
                snap,
                join(base, HOSTS[i] as string),
                expected[i] as Map<string, DiskEntry>,
              ),
            ).toEqual([]);
            kept.push({
              id: snap.id,
              dir: join(base, HOSTS[i] as string),
              expected: expected[i] as Map<string, DiskEntry>,
            });
          }
          // Shared chunks may be stored twice (both writers stored them at once): allowed by §7.
          let duplicated = 0;
          for (const [, entries] of repo.index.packs())
            for (const e of entries) if (repo.index.lookup(e.id).length > 1) duplicated++;
          console.log(
            `round ${round}: ${(dataSize / MiB).toFixed(1)} MiB in two hosts; host-a added ${a.addedBytes} B, host-b ${b.addedBytes} B; ${duplicated} blob copies are duplicates`,
          );
        } finally {
          await repo.close();
        }

        // A third backup, by host-a, of everything both hosts have: the index already holds all of it.
        const before = await packBytes(root);
        const third = await runAgent(
          ["backup", "--host", HOSTS[0], "--parent", "none", join(base, HOSTS[0]), join(base, HOSTS[1])],
          root,
        );
        expect(third.code, third.stderr).toBe(0);
        const summary = (third.json as { snapshotId: string; summary: { addedBytes: number; bytes: number } })
          .summary;
        expect(summary.bytes).toBe(dataSize);
        expect(summary.addedBytes).toBeLessThan(dataSize / 100);
        expect((await packBytes(root)) - before).toBeLessThan(dataSize / 100);
      }

      // Prune (nothing forgotten, every duplicate copy is live data) must leave everything restorable.
      const pruned = await runAgent(["prune", "--max-unused", "0%"], root);
      expect(pruned.code, pruned.stderr).toBe(0);
      const checked = await runAgent(["check", "--read-data"], root);
      expect(checked.code, checked.stderr).toBe(0);
      expect((checked.json as { errors: unknown[] }).errors).toEqual([]);
      const repo = await openFresh(root);
      try {
        // Only the last round's data is still on disk; earlier rounds are proven by their blobs.
        for (const k of kept) {
          const snap = await loadSnapshot(repo, k.id);
          expect(await unavailableBlobs(repo, snap.tree)).toEqual([]);
        }
        for (const k of kept.slice(-2)) {
          expect(await restoreAndDiff(repo, await loadSnapshot(repo, k.id), k.dir, k.expected)).toEqual([]);
        }
      } finally {
        await repo.close();
      }
      expect(await lockFiles(root)).toEqual([]);
    },
    60_000 + ROUNDS * 60_000,
  );
});
