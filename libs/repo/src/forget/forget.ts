import { isRepoError } from "../errors.js";
import { withLock } from "../lock/with-lock.js";
import type { Repository } from "../repository.js";
import { listSnapshots, type SnapshotEntry, type SnapshotFilter } from "../snapshot/snapshot.js";
import { applyPolicy, type KeepDecision } from "./apply-policy.js";
import { type GroupBy, type GroupKey, groupSnapshots } from "./group-snapshots.js";
import { type RetentionPolicy, validatePolicy } from "./retention-policy.js";

export interface ForgetOptions {
  /** Decide and report, remove nothing. */
  dryRun?: boolean;
  groupBy?: GroupBy;
  /** Only snapshots matching this are considered; the others are left alone. */
  filter?: SnapshotFilter;
  lockWaitMs?: number;
  onProgress?: (p: { phase: "remove"; done: number; total: number }) => void;
}

export interface ForgetGroup {
  key: GroupKey;
  /** Newest first. */
  decisions: KeepDecision<SnapshotEntry>[];
}

export interface ForgetResult {
  groups: ForgetGroup[];
  /** Snapshot files removed (none for a dry run). */
  removed: string[];
  /** Snapshot files that cannot be read: never forgotten, since their group is unknown. */
  unreadable: string[];
}

/**
 * Applies a retention policy per group and removes the snapshot files it does
 * not keep (§9: snapshot files only; `prune` frees the data). A shared lock
 * suffices: removing a snapshot can only make prune keep more than needed.
 */
export async function forget(
  repo: Repository,
  policy: RetentionPolicy,
  options: ForgetOptions = {},
): Promise<ForgetResult> {
  validatePolicy(policy);
  const lock = {
    exclusive: false,
    operation: options.dryRun ? "forget --dry-run" : "forget",
    ...(options.lockWaitMs !== undefined && { waitMs: options.lockWaitMs }),
  };
  return withLock(repo, lock, async () => {
    const unreadable: string[] = [];
    const snapshots = await listSnapshots(repo, options.filter ?? {}, (id, err) => {
      // Gone since the listing: another `forget` removed it.
      if (isRepoError(err, "blob_missing")) return;
      if (!isRepoError(err, "data_corrupt")) throw err;
      unreadable.push(id);
    });
    const groups = groupSnapshots(snapshots, options.groupBy ?? "host-source-paths").map((g) => ({
      key: g.key,
      decisions: applyPolicy(g.snapshots, policy),
    }));
    const doomed = groups.flatMap((g) => g.decisions.filter((d) => !d.keep).map((d) => d.snapshot.id));
    if (!options.dryRun) await removeSnapshots(repo, doomed, options.onProgress);
    return { groups, removed: options.dryRun ? [] : doomed, unreadable };
  });
}

async function removeSnapshots(
  repo: Repository,
  ids: readonly string[],
  onProgress: ForgetOptions["onProgress"],
): Promise<void> {
  let done = 0;
  for (const id of ids) {
    await repo.backend.remove({ type: "snapshots", name: id });
    onProgress?.({ phase: "remove", done: ++done, total: ids.length });
  }
}
