import { isRepoError, RepoError } from "../errors.js";
import type { IndexBlobReader } from "../index/index-blob-reader.js";
import type { SnapshotEntry } from "../snapshot/snapshot.js";
import { forEachUniqueTree } from "../walker/unique-trees.js";

const ABORT = "nothing was deleted; run `check` to see what is damaged";

/**
 * Adds the tree and data blobs a snapshot reaches to `live`. Trees in `seen`
 * were walked before (their blobs are in `live` already) and are skipped.
 * Prune cannot tell what is still needed below a tree it cannot read, nor
 * trust an index that lacks a referenced blob, so both stop it.
 */
export async function addLiveBlobs(
  blobs: IndexBlobReader,
  snapshot: SnapshotEntry,
  live: Set<string>,
  seen: Set<string>,
): Promise<void> {
  const which = `snapshot ${snapshot.id.slice(0, 12)}`;
  await forEachUniqueTree(blobs, [snapshot.tree], seen, {
    tree(id, tree) {
      live.add(id);
      for (const node of tree.nodes) {
        if (node.type !== "file" || !Array.isArray(node.content)) continue;
        for (const blob of node.content) {
          if (!blobs.index.has(blob)) {
            throw new RepoError(
              "blob_missing",
              `prune: ${which} needs blob ${blob.slice(0, 12)}, which no index lists; ${ABORT}`,
            );
          }
          live.add(blob);
          addBases(blobs, blob, live, which);
        }
      }
    },
    damaged(id, err) {
      const code = isRepoError(err, "blob_missing") ? "blob_missing" : "data_corrupt";
      throw new RepoError(
        code,
        `prune: tree ${id.slice(0, 12)} of ${which} cannot be read (${(err as Error).message}); ${ABORT}`,
        {
          cause: err,
        },
      );
    },
  });
}

/** The bases of a blob's delta-coded copies (§5.1) stay as long as the blob does. */
function addBases(blobs: IndexBlobReader, blob: string, live: Set<string>, which: string): void {
  const usable = blobs.index.lookup(blob).filter((l) => blobs.index.decodable(l));
  for (const loc of usable) for (const b of loc.bases ?? []) live.add(b);
  if (usable.length === 0) {
    throw new RepoError(
      "blob_missing",
      `prune: ${which} needs blob ${blob.slice(0, 12)}, which is delta-coded against a blob no index lists stored whole; ${ABORT}`,
    );
  }
}
