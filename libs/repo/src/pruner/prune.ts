import { withLock } from "../lock/with-lock.js";
import type { Repository } from "../repository.js";
import { type DeleteResult, deleteUnused } from "./delete-unused.js";
import { takeInventory } from "./inventory.js";
import {
  DEFAULT_MAX_UNUSED,
  type MaxUnused,
  type PrunePlan,
  planPrune,
  validateMaxUnused,
} from "./prune-plan.js";
import type { PruneProgressListener } from "./prune-progress.js";
import { type RepackResult, repack } from "./repack.js";

export interface PruneOptions {
  /** Plan and report sizes; write and delete nothing. */
  dryRun?: boolean;
  /** Unused space tolerated in kept packs (default 5%). */
  maxUnused?: MaxUnused;
  /** How long to wait for the shared lock at the start (default 0). */
  lockWaitMs?: number;
  /** How long to wait for running backups to end before deleting (default 10 minutes). */
  exclusiveLockWaitMs?: number;
  onProgress?: PruneProgressListener;
  /**
   * For tests only: `beforeExclusiveLock` runs after repacking, once the
   * shared lock is released and before the exclusive one is requested, so a
   * test can write a snapshot between the two phases.
   */
  hooks?: { beforeExclusiveLock?: () => Promise<void> };
}

export interface PruneResult extends RepackResult, DeleteResult {
  plan: PrunePlan;
  dryRun: boolean;
}

const DEFAULT_EXCLUSIVE_WAIT_MS = 10 * 60_000;

const NOTHING_DONE: RepackResult & DeleteResult = {
  packsWritten: 0,
  bytesWritten: 0,
  packsDeleted: 0,
  bytesDeleted: 0,
  indexesDeleted: 0,
  packsRescued: [],
  temporaryFilesRemoved: 0,
};

/**
 * Frees the space of data no snapshot needs (§9). Under a shared lock, so
 * backups may go on: computes the live blobs, plans, and writes repacked
 * packs with their index. Then under the exclusive lock, waiting for running
 * backups: recomputes what is live, writes one index superseding all others,
 * and deletes obsolete indexes, then packs. Stopping at any point leaves a
 * valid repository; at worst unindexed packs that the next prune removes.
 * Afterwards the repository object's in-memory index is stale: reopen it.
 */
export async function prune(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  const maxUnused = options.maxUnused ?? DEFAULT_MAX_UNUSED;
  validateMaxUnused(maxUnused);
  const onProgress = options.onProgress ?? (() => {});
  const shared = {
    exclusive: false,
    operation: options.dryRun ? "prune --dry-run" : "prune (planning)",
    ...(options.lockWaitMs !== undefined && { waitMs: options.lockWaitMs }),
  };
  const planned = await withLock(repo, shared, async () => {
    const inventory = await takeInventory(repo, onProgress);
    const plan = planPrune(inventory, maxUnused);
    const repacked = options.dryRun ? NOTHING_DONE : await repack(repo, inventory, plan, onProgress);
    return { inventory, plan, repacked };
  });
  if (options.dryRun) return { ...NOTHING_DONE, plan: planned.plan, dryRun: true };

  await options.hooks?.beforeExclusiveLock?.();
  onProgress({ phase: "exclusive-lock", done: 0, total: 1 });
  const exclusive = {
    exclusive: true,
    operation: "prune (deleting)",
    waitMs: options.exclusiveLockWaitMs ?? DEFAULT_EXCLUSIVE_WAIT_MS,
  };
  const deleted = await withLock(repo, exclusive, (lock) =>
    deleteUnused(repo, lock, planned.inventory, planned.plan, onProgress),
  );
  return { ...planned.repacked, ...deleted, plan: planned.plan, dryRun: false };
}
