// Shared pieces of the robustness tests (src/robustness): child processes
// (race-worker.ts and the agent CLI), barrier files, restore-and-compare, and
// a direct proof that every blob a snapshot references is still stored.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { LocalBackend } from "../backend/local-backend.js";
import type { RepoParams } from "../repo-config.js";
import { Repository } from "../repository.js";
import { restoreSnapshot } from "../restorer/restorer.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { forEachUniqueTree } from "../walker/unique-trees.js";
import { type DiskEntry, describeTree, diffTrees } from "./disk-tree.js";
import { PASSWORD } from "./fixtures.js";
import { type WorkerOutput, waitForFile } from "./race-protocol.js";

export * from "./race-protocol.js";

/** libs/repo: the working directory of child processes (tsx resolves from there). */
export const REPO_LIB_DIR = resolve(import.meta.dirname, "../..");
export const RACE_WORKER = join(import.meta.dirname, "race-worker.ts");
export const AGENT_MAIN = resolve(REPO_LIB_DIR, "../../apps/agent/src/main.ts");

/** Repository parameters small enough that a few MiB make many chunks and packs. */
export function smallParams(gearSeedByte: string, packSize = 256 * 1024): Partial<RepoParams> {
  return {
    packSize,
    chunker: {
      minSize: 16 * 1024,
      avgSize: 64 * 1024,
      maxSize: 256 * 1024,
      gearSeed: gearSeedByte.repeat(32),
    },
  };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningChild {
  child: ChildProcess;
  done: Promise<ChildResult>;
}

/** Runs a TypeScript file the way crash-backup.ts is run: node --conditions=development --import tsx. */
export function runTsx(file: string, args: string[], env: Record<string, string>): RunningChild {
  const child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", file, ...args], {
    cwd: REPO_LIB_DIR,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const done = new Promise<ChildResult>((resolveDone, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolveDone({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Environment for race-worker.ts; values are stringified. */
export type WorkerEnv = Record<string, string | number | undefined>;

function stringEnv(env: WorkerEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = String(v);
  return out;
}

export interface Worker {
  child: ChildProcess;
  output: Promise<WorkerOutput>;
}

/** Workers started and not yet exited: a failed test kills them (stopWorkers). */
const running = new Set<ChildProcess>();

/** Kills (SIGKILL, by pid) the workers this process started that still run; for afterEach. */
export function stopWorkers(): void {
  for (const child of running)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  running.clear();
}

/** Starts race-worker.ts; `output` resolves with its JSON line (or rejects with its stderr). */
export function startWorker(env: WorkerEnv): Worker {
  const { child, done } = runTsx(RACE_WORKER, [], { PASSWORD, ...stringEnv(env) });
  running.add(child);
  child.on("exit", () => running.delete(child));
  const output = done.then((r) => {
    const line = r.stdout.trim().split("\n").at(-1) ?? "";
    try {
      return JSON.parse(line) as WorkerOutput;
    } catch {
      throw new Error(
        `race worker (${env.OP}) exited ${r.code ?? r.signal} without JSON output\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
      );
    }
  });
  output.catch(() => {});
  return { child, output };
}

/**
 * Waits for a barrier file the worker writes; fails at once if the worker
 * ends without having written it (a worker may write it and finish between
 * two polls for the file).
 */
export async function waitForWorker(worker: Worker, path: string, timeoutMs = 60_000): Promise<void> {
  let settled = false;
  const ended = worker.output.then(
    (o) => {
      if (!settled && !existsSync(path))
        throw new Error(`the ${o.op} worker ended before writing ${path}: ${o.message ?? "ok"}`);
    },
    (err: unknown) => {
      if (!settled) throw err;
    },
  );
  try {
    await Promise.race([waitForFile(path, timeoutMs), ended]);
  } finally {
    settled = true;
  }
}

/** Runs the agent CLI (pwdr-agent) with --json; returns the parsed output and exit code. */
export async function runAgent(
  args: string[],
  repoRoot: string,
): Promise<{ code: number | null; json: unknown; stderr: string }> {
  const r = await runTsx(AGENT_MAIN, [...args, "--json"], {
    PWDR_REPOSITORY: repoRoot,
    PWDR_PASSWORD: PASSWORD,
  }).done;
  let json: unknown;
  try {
    json = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    json = undefined;
  }
  return { code: r.code, json, stderr: r.stderr };
}

/** Total bytes of pack files (temporary files excluded). */
export async function packBytes(root: string): Promise<number> {
  let total = 0;
  for (const d of await readdir(join(root, "data"))) {
    for (const f of await readdir(join(root, "data", d))) {
      if (/^[0-9a-f]{64}$/.test(f)) total += (await stat(join(root, "data", d, f))).size;
    }
  }
  return total;
}

/** Repository files by "type/name" (lock files excluded: they come and go with every reader). */
export async function repoFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const type of ["index", "snapshots"]) {
    for (const f of await readdir(join(root, type))) if (!f.startsWith(".")) out.push(`${type}/${f}`);
  }
  for (const d of await readdir(join(root, "data"))) {
    for (const f of await readdir(join(root, "data", d))) if (!f.startsWith(".")) out.push(`data/${f}`);
  }
  return out.sort();
}

export async function lockFiles(root: string): Promise<string[]> {
  return (await readdir(join(root, "locks"))).filter((f) => !f.startsWith("."));
}

/** Opens the repository afresh: an in-memory index that no earlier operation touched. */
export function openFresh(root: string): Promise<Repository> {
  return Repository.open(new LocalBackend(root), PASSWORD);
}

/** Every tree and data blob a snapshot references. */
export async function referencedBlobs(repo: Repository, tree: string): Promise<Set<string>> {
  const blobs = new Set<string>();
  await forEachUniqueTree(repo, [tree], new Set(), {
    tree(id, t) {
      blobs.add(id);
      for (const node of t.nodes) for (const b of node.content ?? []) blobs.add(b);
    },
    damaged(id, err) {
      throw new Error(`tree ${id} cannot be read: ${(err as Error).message}`);
    },
  });
  return blobs;
}

/**
 * Blobs of a snapshot that no current index lists in a pack file that
 * exists: what a prune must never produce. `repo` should be freshly opened.
 */
export async function unavailableBlobs(repo: Repository, tree: string): Promise<string[]> {
  await repo.loadIndex();
  const sizes = new Map<string, number>();
  for await (const f of repo.backend.list("data")) sizes.set(f.name, f.size);
  const missing: string[] = [];
  for (const id of await referencedBlobs(repo, tree)) {
    const ok = repo.index.lookup(id).some((l) => (sizes.get(l.pack) ?? -1) >= l.offset + l.length);
    if (!ok) missing.push(id);
  }
  return missing;
}

/** The pack each of these blobs lives in (first location), from the repository's loaded index. */
export function packsOf(repo: Repository, blobs: Iterable<string>): Set<string> {
  const packs = new Set<string>();
  for (const b of blobs) for (const l of repo.index.lookup(b)) packs.add(l.pack);
  return packs;
}

/**
 * diffTrees, but mtimes may differ by up to 2 µs instead of 1 µs: the
 * restorer can set an mtime up to ~1.2 µs early (restore-fs.ts mtimeSeconds
 * rounds nanoseconds through a double, then libuv truncates to whole
 * microseconds; see robustness/restore-mtime-precision.test.ts). Content,
 * type, mode, owner and link targets are still compared exactly.
 */
export function diffTreesTolerant(
  expected: Map<string, DiskEntry>,
  actual: Map<string, DiskEntry>,
): string[] {
  const adjusted = new Map<string, DiskEntry>();
  for (const [key, a] of actual) {
    const e = expected.get(key);
    const d = e ? a.mtimeNs - e.mtimeNs : 0n;
    adjusted.set(key, e && d > -2000n && d < 2000n ? { ...a, mtimeNs: e.mtimeNs } : a);
  }
  return diffTrees(expected, adjusted);
}

/**
 * Restores a snapshot into a fresh directory and compares the restored copy
 * of `sourceAbs` with `expected` (describeTree of the source at backup time).
 * Returns the differences (empty when identical).
 */
export async function restoreAndDiff(
  repo: Repository,
  snapshot: Pick<Snapshot, "tree" | "paths">,
  sourceAbs: string,
  expected: Map<string, DiskEntry>,
): Promise<string[]> {
  const target = makeTempDir("robust-restore");
  try {
    await restoreSnapshot(repo, snapshot, { target });
    return diffTreesTolerant(expected, await describeTree(join(target, sourceAbs)));
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}
