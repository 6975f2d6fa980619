import { isRepoError, RepoError } from "../errors.js";
import { IndexBlobReader } from "../index/index-blob-reader.js";
import type { IndexFile } from "../index/index-file.js";
import { MasterIndex } from "../index/master-index.js";
import { currentPacks, readIndexFiles } from "../index/read-index-files.js";
import type { PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import { listSnapshots, snapshotNames } from "../snapshot/snapshot.js";
import { addLiveBlobs } from "./live-blobs.js";
import type { PruneProgressListener } from "./prune-progress.js";

/** What the repository holds at one moment, and which blobs its snapshots need. */
export interface Inventory {
  /** Every readable index file, superseded ones included. */
  indexFiles: Map<string, IndexFile>;
  /** Unreadable index files that a readable one supersedes: harmless, deleted with the others. */
  damagedIndexes: string[];
  /** The packs readers see, from the non-superseded index files. */
  packs: Map<string, PackEntry[]>;
  index: MasterIndex;
  blobs: IndexBlobReader;
  /** Every pack file present, indexed or not, with its size. */
  packSizes: Map<string, number>;
  snapshots: Set<string>;
  /** Tree and data blobs reachable from the snapshots. */
  live: Set<string>;
  /** Trees already walked: their blobs are in `live`. */
  seenTrees: Set<string>;
}

const ABORT = "nothing was deleted; run `check` to see what is damaged";

/**
 * Reads indexes, pack files and snapshots and computes the live blobs. Given
 * an earlier inventory, it reuses its decoded index files (files never
 * change) and walks only trees it has not seen; blobs live then stay live, so
 * prune never drops what it planned to keep.
 */
export async function takeInventory(
  repo: Repository,
  onProgress: PruneProgressListener,
  earlier?: Inventory,
): Promise<Inventory> {
  const damaged = new Map<string, RepoError>();
  const present = await snapshotNames(repo);
  const indexFiles = await readIndexFiles(repo, {
    ...(earlier && { known: earlier.indexFiles }),
    onError: (name, err) => damaged.set(name, err),
    onFile: (done, total) => onProgress({ phase: "indexes", done, total }),
  });
  const damagedIndexes = supersededOnly(indexFiles, damaged);
  const packs = currentPacks(indexFiles);
  const index = new MasterIndex();
  for (const [id, entries] of packs) index.addPack(id, entries);
  const packSizes = new Map<string, number>();
  for await (const f of repo.backend.list("data")) packSizes.set(f.name, f.size);

  const inventory: Inventory = {
    indexFiles,
    damagedIndexes,
    packs,
    index,
    blobs: new IndexBlobReader(repo, index),
    packSizes,
    snapshots: new Set(),
    live: new Set(earlier?.live),
    seenTrees: new Set(earlier?.seenTrees),
  };
  await walkSnapshots(repo, inventory, present, onProgress);
  return inventory;
}

/**
 * Prune must know every pack readers see, so an unreadable index stops it,
 * unless a readable index supersedes it (a prune stopped before deleting it).
 */
function supersededOnly(
  files: ReadonlyMap<string, IndexFile>,
  damaged: ReadonlyMap<string, RepoError>,
): string[] {
  const superseded = new Set([...files.values()].flatMap((f) => f.supersedes));
  for (const [name, err] of damaged) {
    if (superseded.has(name)) continue;
    throw new RepoError(
      err.code,
      `prune needs every index, but index ${name.slice(0, 12)} cannot be read (${err.message}); ${ABORT}`,
      { cause: err },
    );
  }
  return [...damaged.keys()];
}

async function walkSnapshots(
  repo: Repository,
  inv: Inventory,
  present: ReadonlySet<string>,
  onProgress: PruneProgressListener,
): Promise<void> {
  // Snapshots that appeared after the indexes were read belong to backups
  // still holding their shared lock; the exclusive phase's inventory sees them.
  const listed = await listSnapshots(repo, {}, (id, err) => {
    if (!present.has(id)) return;
    // Gone since the listing: forgotten meanwhile, so its data need not be kept.
    if (isRepoError(err, "blob_missing")) return;
    if (!isRepoError(err, "data_corrupt")) throw err;
    throw new RepoError(
      "data_corrupt",
      `prune needs every snapshot, but snapshot ${id.slice(0, 12)} cannot be read (${err.message}); ${ABORT}`,
      {
        cause: err,
      },
    );
  });
  const snapshots = listed.filter((snap) => present.has(snap.id));
  let done = 0;
  for (const s of snapshots) {
    inv.snapshots.add(s.id);
    await addLiveBlobs(inv.blobs, s, inv.live, inv.seenTrees);
    onProgress({ phase: "snapshots", done: ++done, total: snapshots.length });
  }
}
