import { RepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { loadTree, splitPath } from "../tree/tree-io.js";
import { nodeNameBytes, nodeNameKey, type Tree, type TreeNode } from "../tree/tree-node.js";

/** A path inside a snapshot, resolved to its node and the directory nodes above it. */
export interface ResolvedPath {
  /** Raw name components from the snapshot root; empty for the root itself. */
  components: Buffer[];
  /** The directory nodes from the root down to the parent of `node` (one per component but the last). */
  ancestors: TreeNode[];
  /** The node at the path; the root is a synthetic directory node without metadata of its own. */
  node: TreeNode;
  isRoot: boolean;
}

/** The root of a snapshot as a directory node (the root has no metadata of its own). */
export function rootNode(snapshot: Pick<Snapshot, "tree">): TreeNode {
  return {
    type: "dir",
    mode: 0o755,
    uid: 0,
    gid: 0,
    mtimeNs: "0",
    ctimeNs: "0",
    size: 0,
    inode: "0",
    dev: "0",
    links: 1,
    subtree: snapshot.tree,
  };
}

/** Shows raw path bytes as text ("/srv/x"); bytes that are not UTF-8 become U+FFFD. */
export function displayPath(components: readonly Buffer[]): string {
  return `/${components.map((c) => c.toString("utf8")).join("/")}`;
}

/**
 * Loads a tree and checks its names the way a restorer must (§7, §10):
 * every name is safe and appears once, so a tree cannot list a symlink and
 * a directory under the same name.
 */
export async function loadCheckedTree(repo: Pick<Repository, "loadBlob">, id: string): Promise<Tree> {
  const tree = await loadTree(repo, id);
  const seen = new Set<string>();
  for (const node of tree.nodes) {
    const key = nodeNameKey(node);
    if (seen.has(key)) {
      throw new RepoError(
        "unsafe_path",
        `tree ${id.slice(0, 12)} lists ${JSON.stringify(Buffer.from(key, "latin1").toString("utf8"))} twice; refusing it`,
      );
    }
    seen.add(key);
  }
  return tree;
}

/** Resolves "/srv/x/file" (or "srv/x/file") inside a snapshot; `path_not_found` when it is not there. */
export async function resolveSnapshotPath(
  repo: Pick<Repository, "loadBlob">,
  snapshot: Pick<Snapshot, "tree">,
  path: string | Buffer,
): Promise<ResolvedPath> {
  const components = splitPath(path);
  const ancestors: TreeNode[] = [];
  let node = rootNode(snapshot);
  for (const [i, part] of components.entries()) {
    if (part.length <= 2 && /^\.\.?$/.test(part.toString("latin1"))) {
      throw new RepoError("invalid_argument", `"${String(path)}": use paths without "." or ".." components`);
    }
    if (node.type !== "dir" || !node.subtree) {
      throw new RepoError(
        "path_not_found",
        `${displayPath(components.slice(0, i))} is a ${node.type}, not a directory, so ${displayPath(components)} is not in the snapshot`,
      );
    }
    const tree = await loadCheckedTree(repo, node.subtree);
    const child = tree.nodes.find((n) => nodeNameBytes(n).equals(part));
    if (!child) throw new RepoError("path_not_found", `${displayPath(components)} is not in the snapshot`);
    ancestors.push(node);
    node = child;
  }
  // The root pseudo-node is not an ancestor anyone restores or lists.
  return { components, ancestors: ancestors.slice(1), node, isRoot: components.length === 0 };
}
