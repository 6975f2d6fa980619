import { resolveSnapshotPath } from "../browse/snapshot-path.js";
import { RepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import type { TreeNode } from "../tree/tree-node.js";

/** One part of a snapshot to restore, and where below the target it goes. */
export interface RestoreRoot {
  /** Snapshot path of `node` (raw components; empty for the snapshot root). */
  components: Buffer[];
  /** Directory, below the target, that receives `node` (or its children). */
  diskParent: Buffer[];
  /** Directory nodes for each component of `diskParent`, restored with their metadata. */
  ancestors: TreeNode[];
  node: TreeNode;
  /** Restore the children of the directory `node` into `diskParent`, not `node` itself. */
  childrenOnly: boolean;
}

function isPrefix(prefix: readonly Buffer[], of: readonly Buffer[]): boolean {
  return prefix.length <= of.length && prefix.every((c, i) => c.equals(of[i] as Buffer));
}

/**
 * Resolves `include` paths (all of the snapshot when empty). With
 * `stripPrefix` a directory's content, or a single file, goes straight into
 * the target; without it each path keeps its place below the target and the
 * directories above it are restored too. Without `include`, `stripPrefix`
 * strips the snapshot's one backed-up path.
 */
export async function selectRoots(
  repo: Pick<Repository, "loadBlob">,
  snapshot: Pick<Snapshot, "tree" | "paths">,
  include: readonly string[] | undefined,
  stripPrefix: boolean,
): Promise<RestoreRoot[]> {
  let paths = include?.length ? [...include] : ["/"];
  if (!include?.length && stripPrefix) {
    if (snapshot.paths.length !== 1) {
      throw new RepoError(
        "invalid_argument",
        `the snapshot holds ${snapshot.paths.length} paths; name the one to restore with its content directly in the target`,
      );
    }
    paths = [snapshot.paths[0] as string];
  }
  const resolved = [];
  for (const p of paths) resolved.push(await resolveSnapshotPath(repo, snapshot, p));
  if (stripPrefix) {
    return resolved.map((r) => ({
      components: r.components,
      diskParent: [],
      ancestors: [],
      node: r.node,
      childrenOnly: r.node.type === "dir",
    }));
  }
  // A path inside another selected path is restored with it, once.
  resolved.sort((a, b) => a.components.length - b.components.length);
  const kept: typeof resolved = [];
  for (const r of resolved) if (!kept.some((k) => isPrefix(k.components, r.components))) kept.push(r);
  return kept.map((r) => ({
    components: r.components,
    diskParent: r.isRoot ? [] : r.components.slice(0, -1),
    ancestors: r.ancestors,
    node: r.node,
    childrenOnly: r.isRoot,
  }));
}
