import type { RepoError } from "../errors.js";
import { currentPacks, readIndexFiles } from "../index/read-index-files.js";
import type { Repository } from "../repository.js";
import type { CheckState } from "./check-state.js";

/**
 * Decodes every index file and builds the view readers have. A damaged index
 * that a readable one supersedes is harmless (prune crashed before deleting
 * it, and the next prune will), so only the others are errors.
 */
export async function checkIndexes(repo: Repository, state: CheckState): Promise<void> {
  const damaged = new Map<string, RepoError>();
  const files = await readIndexFiles(repo, {
    onError: (name, err) => damaged.set(name, err),
    onFile: (done, total) => state.onProgress({ phase: "indexes", done, total }),
  });
  const superseded = new Set([...files.values()].flatMap((f) => f.supersedes));
  for (const [name, err] of damaged) {
    if (superseded.has(name)) continue;
    state.error({
      kind: "index_damaged",
      file: `index/${name}`,
      message: `index ${name.slice(0, 12)} cannot be read (${err.message}); the packs it lists are unknown to readers`,
      blobs: [],
    });
  }
  state.packs = currentPacks(files);
  for (const [pack, entries] of state.packs) state.index.addPack(pack, entries);
}
