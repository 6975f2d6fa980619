import { withLock } from "../lock/with-lock.js";
import type { Repository } from "../repository.js";
import { snapshotNames } from "../snapshot/snapshot.js";
import { attachAffected } from "./affected.js";
import { checkIndexes } from "./check-indexes.js";
import { checkPacks } from "./check-packs.js";
import type { CheckProgress, CheckReport } from "./check-report.js";
import { checkSnapshots } from "./check-snapshots.js";
import { CheckState } from "./check-state.js";
import { explainMissing } from "./explain-missing.js";
import { readData } from "./read-data.js";
import { type ReadDataSelection, selectPacks, validateSelection } from "./select-packs.js";

export interface CheckOptions {
  /** Also read packs in full and verify every blob in them; without it only structure is checked. */
  readData?: ReadDataSelection;
  onProgress?: (p: CheckProgress) => void;
  /** How long to wait for an exclusive lock (a prune deleting) to go away. */
  lockWaitMs?: number;
}

/**
 * Verifies the repository without changing it (it only writes its own shared
 * lock): indexes decode; indexed packs exist with the right size; every
 * snapshot decodes and its whole tree is reachable and valid; and, with
 * `readData`, the selected packs' bytes, headers and blobs. Every error names
 * the file at fault and the snapshots and paths that lose data through it.
 * The caller decides the outcome: errors mean exit code `check_failed`.
 */
export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckReport> {
  if (options.readData) validateSelection(options.readData);
  const lock = {
    exclusive: false,
    operation: "check",
    ...(options.lockWaitMs !== undefined && { waitMs: options.lockWaitMs }),
  };
  return withLock(repo, lock, () => runCheck(repo, options));
}

async function runCheck(repo: Repository, options: CheckOptions): Promise<CheckReport> {
  const state = new CheckState(repo, options.onProgress ?? (() => {}));
  const present = await snapshotNames(repo);
  await checkIndexes(repo, state);
  await checkPacks(repo, state);
  await checkSnapshots(repo, state, present);
  if (options.readData) {
    const indexed = new Map([...state.packs.keys()].map((p) => [p, state.packSizes.get(p) ?? 0]));
    await readData(repo, state, selectPacks(indexed, options.readData));
  }
  await explainMissing(repo, state);
  if (state.anythingLost) {
    for (const e of state.report.errors) e.blobs = [...e.blobs, ...state.lostDependents(e.blobs)];
    await attachAffected(
      state.blobs,
      state.snapshots,
      state.report.errors,
      (id) => state.isLost(id),
      (done) => state.onProgress({ phase: "affected", done, total: state.snapshots.length }),
    );
  }
  state.report.damagedSnapshots = damagedSnapshots(state);
  return state.report;
}

/** Every snapshot some error affects, oldest first (unreadable ones, whose time is unknown, first). */
function damagedSnapshots(state: CheckState): string[] {
  const damaged = new Set(state.report.errors.flatMap((e) => e.affected.map((a) => a.snapshot)));
  const order = new Map(state.snapshots.map((s, i) => [s.id, i]));
  return [...damaged].sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1) || a.localeCompare(b));
}
