import type { Backend } from "../backend/backend.js";
import { RepoError } from "../errors.js";
import { encodeIndexFile } from "../index/index-file.js";
import type { LockHandle } from "../lock/lock-handle.js";
import type { Repository } from "../repository.js";
import { type Inventory, takeInventory } from "./inventory.js";
import type { PrunePlan } from "./prune-plan.js";
import type { PruneProgressListener } from "./prune-progress.js";

export interface DeleteResult {
  packsDeleted: number;
  bytesDeleted: number;
  indexesDeleted: number;
  /** Packs the plan meant to delete that snapshots written since need. */
  packsRescued: string[];
  temporaryFilesRemoved: number;
}

/** Backends that can clear writers' leftover temporary files (LocalBackend). */
interface TemporaryFileCleaner {
  removeTemporaryFiles(): Promise<number>;
}

function cleansTemporaryFiles(b: Backend): b is Backend & TemporaryFileCleaner {
  return typeof (b as Partial<TemporaryFileCleaner>).removeTemporaryFiles === "function";
}

/**
 * Prune's second phase (§9), under the exclusive lock: takes a fresh
 * inventory (snapshots and indexes written since planning add to the live
 * set), keeps every pack a live blob needs, writes one index superseding all
 * others, deletes them, then deletes every pack file the new index does not
 * list. The repository is valid after each step.
 */
export async function deleteUnused(
  repo: Repository,
  lock: LockHandle,
  planned: Inventory,
  plan: PrunePlan,
  onProgress: PruneProgressListener,
): Promise<DeleteResult> {
  const now = await takeInventory(repo, onProgress, planned);
  const leaving = new Set([...plan.deletePacks, ...plan.repackPacks]);
  const keep = new Set([...now.packs.keys()].filter((p) => now.packSizes.has(p) && !leaving.has(p)));
  const packsRescued = rescue(now, keep);
  const rewrite =
    now.indexFiles.size + now.damagedIndexes.length > 1 || [...now.packs.keys()].some((p) => !keep.has(p));
  const obsoleteIndexes = rewrite ? [...now.indexFiles.keys(), ...now.damagedIndexes] : [];
  const obsoletePacks = [...now.packSizes.keys()].filter((p) => !keep.has(p));
  // Past this point files go: stop if another process may have taken over the repository.
  await lock.refresh();
  if (rewrite) await writeIndex(repo, now, keep, obsoleteIndexes);
  await removeAll(repo, "index", obsoleteIndexes, (done, total) =>
    onProgress({ phase: "delete-indexes", done, total }),
  );
  await removeAll(repo, "data", obsoletePacks, (done, total) =>
    onProgress({ phase: "delete-packs", done, total }),
  );
  return {
    packsDeleted: obsoletePacks.length,
    bytesDeleted: obsoletePacks.reduce((n, p) => n + (now.packSizes.get(p) ?? 0), 0),
    indexesDeleted: obsoleteIndexes.length,
    packsRescued,
    temporaryFilesRemoved: cleansTemporaryFiles(repo.backend) ? await repo.backend.removeTemporaryFiles() : 0,
  };
}

/**
 * Adds to `keep` a pack for each live blob that has no copy in it: a
 * snapshot written after planning may use blobs of a pack planned to go.
 * A live blob with no copy at all means something is badly wrong: stop.
 */
function rescue(now: Inventory, keep: Set<string>): string[] {
  const rescued: string[] = [];
  for (const id of now.live) {
    const locations = now.index.lookup(id);
    if (locations.some((l) => keep.has(l.pack))) continue;
    const spare = locations.find((l) => now.packSizes.has(l.pack));
    if (!spare) {
      throw new RepoError(
        "blob_missing",
        `prune: blob ${id.slice(0, 12)}, which snapshots need, has no copy left in any pack; nothing was deleted; run \`check\``,
      );
    }
    keep.add(spare.pack);
    rescued.push(spare.pack);
  }
  return rescued.sort();
}

async function writeIndex(
  repo: Repository,
  now: Inventory,
  keep: ReadonlySet<string>,
  supersedes: string[],
): Promise<void> {
  const packs = [...keep].sort().map((id) => ({ id, entries: now.packs.get(id) ?? [] }));
  await repo.saveEncodedJson("index", encodeIndexFile({ supersedes, packs }));
}

async function removeAll(
  repo: Repository,
  type: "index" | "data",
  names: readonly string[],
  onProgress: (done: number, total: number) => void,
): Promise<void> {
  for (const [i, name] of names.entries()) {
    await repo.backend.remove({ type, name });
    onProgress(i + 1, names.length);
  }
}
