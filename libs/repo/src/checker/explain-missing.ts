import { isRepoError } from "../errors.js";
import { readPackHeader } from "../pack/pack-reader.js";
import type { Repository } from "../repository.js";
import type { CheckState } from "./check-state.js";

/**
 * Reports blobs that snapshots need but no readable index lists. Packs no
 * index lists are searched for them: finding them there means an index was
 * lost, not the data. A damaged index is blamed for all of them, since its
 * content is unknown.
 */
export async function explainMissing(repo: Repository, state: CheckState): Promise<void> {
  if (state.missing.size === 0) return;
  const unexplained = new Set(state.missing);
  for (const pack of state.packSizes.keys()) {
    if (state.packs.has(pack) || unexplained.size === 0) continue;
    const found = (await headerOf(repo, pack)).filter((id) => unexplained.has(id));
    if (found.length === 0) continue;
    for (const id of found) unexplained.delete(id);
    state.error({
      kind: "blobs_missing",
      file: `data/${pack}`,
      message: `${found.length} blobs that snapshots need are in pack ${pack.slice(0, 12)}, which no readable index lists: an index was lost or damaged; the data is still there`,
      blobs: found,
    });
  }
  if (unexplained.size) {
    state.error({
      kind: "blobs_missing",
      message: `${unexplained.size} blobs that snapshots need are in no index and in no pack`,
      blobs: [...unexplained],
    });
  }
  for (const e of state.report.errors) if (e.kind === "index_damaged") e.blobs = [...state.missing];
}

async function headerOf(repo: Repository, pack: string): Promise<string[]> {
  try {
    return (await readPackHeader(repo.backend, repo.key.encKey, pack)).map((e) => e.id);
  } catch (err) {
    // An unreadable orphan explains nothing; it is already reported as unreferenced.
    if (isRepoError(err, "data_corrupt") || isRepoError(err, "blob_missing")) return [];
    throw err;
  }
}
