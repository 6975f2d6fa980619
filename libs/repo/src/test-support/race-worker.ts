// One backup or prune process for the robustness tests (src/robustness):
// two hosts writing at once, prune racing a backup. Run it like
// crash-backup.ts: node --conditions=development --import tsx race-worker.ts
//
// Environment:
//   REPO, PASSWORD, OP = backup | prune
//   SLOW_REMOVE_MS  each file removal sleeps this long first (widens prune's deletion phase)
//   LOADED_FILE     written once the repository is open (the process is warmed up), then
//   START_FILE      waited for before doing anything: lets a test start two processes at chosen offsets
//   backup: SOURCES (JSON array of absolute paths), HOST, LOCK_WAIT_MS (default 0),
//           READY_FILE  written once Backup.start resolved (the shared lock is held),
//           GO_FILE     waited for before the sources are read,
//           ADDED_FILE  written once the sources were read (their blobs are chosen),
//           FINISH_FILE waited for before `finish` (the lock is still held meanwhile)
//   prune:  FORGET (JSON retention policy, applied first), MAX_UNUSED (JSON, default {"percent":0}),
//           LOCK_WAIT_MS, EXCLUSIVE_WAIT_MS,
//           READY_FILE  written when planning is done and the exclusive lock is about to be asked for
//           GO_FILE     waited for after READY_FILE, before asking (prune's test hook)
//
// Prints one JSON line (WorkerOutput in robustness-helpers.ts) with the
// moments it passed ("times"), every data/index/snapshot file it saved or
// removed with timestamps ("events"), and the result. Exit code 0 when the
// operation succeeded, 2 when it failed with a RepoError, 1 otherwise.
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Backup } from "../archiver/archiver.js";
import type { FileHandle, FileType, StagedFile } from "../backend/backend.js";
import { LocalBackend } from "../backend/local-backend.js";
import { isRepoError } from "../errors.js";
import { forget } from "../forget/forget.js";
import type { RetentionPolicy } from "../forget/retention-policy.js";
import { prune } from "../pruner/prune.js";
import type { MaxUnused } from "../pruner/prune-plan.js";
import { Repository } from "../repository.js";
import { type FileEvent, now, type WorkerOutput, waitForFile } from "./race-protocol.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`race-worker needs ${name}`);
  return value;
}

const OP = env("OP") as "backup" | "prune";
const times: Record<string, number> = { spawned: now() };
const events: FileEvent[] = [];
const slowRemoveMs = Number(process.env.SLOW_REMOVE_MS ?? 0);
/** Pack commits this much slower: keeps a writer's pack writes spread over time, so two writers' overlap. */
const slowCommitMs = Number(process.env.SLOW_COMMIT_MS ?? 0);

class LoggingBackend extends LocalBackend {
  override async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (handle.type === "locks" || handle.type === "keys") return super.save(handle, data);
    const t0 = now();
    await super.save(handle, data);
    events.push({ op: "save", type: handle.type, name: handle.name, t0, t1: now() });
  }

  /** A staged file (a pack) counts as saved from its start to its commit. */
  override async stage(type: FileType): Promise<StagedFile> {
    const t0 = now();
    const file = await super.stage(type);
    return {
      append: (parts) => file.append(parts),
      commit: async (name) => {
        if (slowCommitMs > 0) await sleep(slowCommitMs);
        await file.commit(name);
        events.push({ op: "save", type, name, t0, t1: now() });
      },
      discard: () => file.discard(),
    };
  }

  override async remove(handle: FileHandle): Promise<void> {
    if (handle.type === "locks") return super.remove(handle);
    if (slowRemoveMs > 0) await sleep(slowRemoveMs);
    const t0 = now();
    await super.remove(handle);
    events.push({ op: "remove", type: handle.type, name: handle.name, t0, t1: now() });
  }
}

function mark(name: string): void {
  times[name] = now();
}

function emit(out: Omit<WorkerOutput, "op" | "pid" | "times" | "events">): void {
  const full: WorkerOutput = { op: OP, pid: process.pid, times, events, ...out };
  process.stdout.write(`${JSON.stringify(full)}\n`);
}

async function runBackup(repo: Repository): Promise<void> {
  const sources = JSON.parse(env("SOURCES")) as string[];
  mark("startCall");
  const backup = await Backup.start(repo, {
    host: env("HOST"),
    lockWaitMs: Number(process.env.LOCK_WAIT_MS ?? 0),
  });
  mark("locked");
  try {
    if (process.env.READY_FILE) writeFileSync(process.env.READY_FILE, String(process.pid));
    if (process.env.GO_FILE) await waitForFile(process.env.GO_FILE, 120_000);
    mark("addStart");
    for (const s of sources) await backup.addPath(s);
    mark("addEnd");
    if (process.env.ADDED_FILE) writeFileSync(process.env.ADDED_FILE, String(process.pid));
    if (process.env.FINISH_FILE) await waitForFile(process.env.FINISH_FILE, 120_000);
  } catch (err) {
    await backup.abort();
    throw err;
  }
  mark("finishCall");
  const result = await backup.finish();
  mark("finished");
  emit({
    ok: true,
    id: result.id,
    addedBytes: result.snapshot.summary.addedBytes,
    files: result.snapshot.summary.files,
  });
}

async function runPrune(repo: Repository): Promise<void> {
  const lockWaitMs = process.env.LOCK_WAIT_MS ? Number(process.env.LOCK_WAIT_MS) : undefined;
  let forgotten: string[] = [];
  if (process.env.FORGET) {
    mark("forgetStart");
    const r = await forget(repo, JSON.parse(process.env.FORGET) as RetentionPolicy, {
      ...(lockWaitMs !== undefined && { lockWaitMs }),
    });
    forgotten = r.removed;
    mark("forgetEnd");
  }
  const phases: { phase: string; t: number }[] = [];
  mark("pruneStart");
  const result = await prune(repo, {
    maxUnused: JSON.parse(process.env.MAX_UNUSED ?? '{"percent":0}') as MaxUnused,
    ...(lockWaitMs !== undefined && { lockWaitMs }),
    ...(process.env.EXCLUSIVE_WAIT_MS && { exclusiveLockWaitMs: Number(process.env.EXCLUSIVE_WAIT_MS) }),
    onProgress: (p) => {
      if (phases.at(-1)?.phase !== p.phase) phases.push({ phase: p.phase, t: now() });
    },
    hooks: {
      beforeExclusiveLock: async () => {
        mark("beforeExclusive");
        if (process.env.READY_FILE) writeFileSync(process.env.READY_FILE, String(process.pid));
        if (process.env.GO_FILE) await waitForFile(process.env.GO_FILE, 120_000);
        mark("askExclusive");
      },
    },
  });
  mark("pruneEnd");
  emit({
    ok: true,
    forgotten,
    phases,
    prune: {
      deletePacks: result.plan.deletePacks,
      repackPacks: result.plan.repackPacks,
      unindexedPacks: result.plan.unindexedPacks,
      packsRescued: result.packsRescued,
      packsDeleted: result.packsDeleted,
      packsWritten: result.packsWritten,
    },
  });
}

const repo = await Repository.open(new LoggingBackend(env("REPO")), env("PASSWORD"));
mark("opened");
if (process.env.LOADED_FILE) writeFileSync(process.env.LOADED_FILE, String(process.pid));
if (process.env.START_FILE) await waitForFile(process.env.START_FILE, 120_000);
mark("started");
try {
  if (OP === "backup") await runBackup(repo);
  else if (OP === "prune") await runPrune(repo);
  else throw new Error(`unknown OP ${OP}`);
} catch (err) {
  mark("failed");
  emit({
    ok: false,
    code: isRepoError(err) ? err.code : "exception",
    message: (err as Error).stack ?? String(err),
  });
  process.exitCode = isRepoError(err) ? 2 : 1;
} finally {
  await repo.close();
}
