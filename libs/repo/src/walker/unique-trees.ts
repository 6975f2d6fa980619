import { isRepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import { loadTree } from "../tree/tree-io.js";
import type { Tree } from "../tree/tree-node.js";

export interface TreeVisitor {
  /** Called once for every readable tree blob. */
  tree(id: string, tree: Tree): void;
  /** Called for a tree blob that is missing or damaged; what lies below it is unknown. */
  damaged(id: string, err: unknown): void;
}

/**
 * Visits every tree blob reachable from `roots` exactly once. Snapshots of
 * the same data share most of their subtrees, so `seen` (extended as trees
 * are visited) lets later calls skip what earlier ones read. Backend failures
 * other than a missing or damaged blob are thrown: they say nothing about
 * the repository.
 */
export async function forEachUniqueTree(
  repo: Pick<Repository, "loadBlob">,
  roots: Iterable<string>,
  seen: Set<string>,
  visit: TreeVisitor,
): Promise<void> {
  const stack = [...roots];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (seen.has(id)) continue;
    seen.add(id);
    let tree: Tree;
    try {
      tree = await loadTree(repo, id);
    } catch (err) {
      if (!isRepoError(err, "data_corrupt") && !isRepoError(err, "blob_missing")) throw err;
      visit.damaged(id, err);
      continue;
    }
    visit.tree(id, tree);
    for (const node of tree.nodes) {
      if (node.type === "dir" && typeof node.subtree === "string") stack.push(node.subtree);
    }
  }
}
