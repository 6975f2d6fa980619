// What race-worker.ts and the robustness tests share: timestamps, barrier
// files and the worker's JSON output. Kept light: the worker imports it.
import { access } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes on one host. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A file event the race worker's backend logged: t0 before the call, t1 after it. */
export interface FileEvent {
  op: "save" | "remove";
  type: string;
  name: string;
  t0: number;
  t1: number;
}

/** What race-worker.ts prints as its one line of JSON. */
export interface WorkerOutput {
  ok: boolean;
  op: "backup" | "prune";
  pid: number;
  /** RepoError code when not ok. */
  code?: string;
  message?: string;
  /** Named moments (see race-worker.ts), wall-clock ms. */
  times: Record<string, number>;
  events: FileEvent[];
  /** Backup: the new snapshot. */
  id?: string;
  addedBytes?: number;
  files?: number;
  /** Prune: what forget removed and what prune did. */
  forgotten?: string[];
  prune?: {
    deletePacks: string[];
    repackPacks: string[];
    unindexedPacks: string[];
    packsRescued: string[];
    packsDeleted: number;
    packsWritten: number;
  };
  /** Prune: progress phases in order, each with the time it was first reported. */
  phases?: { phase: string; t: number }[];
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Polls for a file (a barrier another process writes). */
export async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await exists(path))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${path}`);
    await sleep(5);
  }
}
