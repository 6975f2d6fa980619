import type { Repository } from "../repository.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { loadTree } from "../tree/tree-io.js";
import { type NodeType, nodeNameBytes, nodeTargetBytes, type TreeNode } from "../tree/tree-node.js";
import { displayPath, resolveSnapshotPath } from "./snapshot-path.js";

export interface ListOptions {
  /** Directory (or file) inside the snapshot; the root when omitted. */
  path?: string | Buffer;
  /** Descend into subdirectories (parents are listed before their content). */
  recursive?: boolean;
}

/** One entry of a snapshot listing. */
export interface ListEntry {
  /** "/srv/x/file"; name bytes that are not UTF-8 show as U+FFFD, `pathBytes` keeps them. */
  path: string;
  pathBytes: Buffer;
  type: NodeType;
  /** Regular files only; 0 otherwise. */
  size: number;
  /** Permission bits (0o7777). */
  mode: number;
  mtime: Date;
  /** Nanoseconds since the epoch, exact. */
  mtimeNs: string;
  uid: number;
  gid: number;
  /** Symlinks: where they point. */
  target?: string;
  node: TreeNode;
}

/**
 * Lists a directory of a snapshot (restic's `ls`): its entries, or its whole
 * tree with `recursive`. A path naming a file lists that file alone; a path
 * that is not in the snapshot fails with `path_not_found`.
 */
export async function* listFiles(
  repo: Pick<Repository, "loadBlob" | "loadIndex">,
  snapshot: Pick<Snapshot, "tree">,
  options: ListOptions = {},
): AsyncGenerator<ListEntry> {
  await repo.loadIndex();
  const { node, components } = await resolveSnapshotPath(repo, snapshot, options.path ?? "/");
  if (node.type !== "dir") {
    yield listEntry(components, node);
    return;
  }
  yield* listDir(repo, node.subtree, components, options.recursive ?? false);
}

async function* listDir(
  repo: Pick<Repository, "loadBlob">,
  treeId: string | undefined,
  components: readonly Buffer[],
  recursive: boolean,
): AsyncGenerator<ListEntry> {
  if (!treeId) return;
  const tree = await loadTree(repo, treeId);
  for (const node of tree.nodes) {
    const path = [...components, nodeNameBytes(node)];
    yield listEntry(path, node);
    if (recursive && node.type === "dir") yield* listDir(repo, node.subtree, path, true);
  }
}

export function listEntry(components: readonly Buffer[], node: TreeNode): ListEntry {
  const entry: ListEntry = {
    path: displayPath(components),
    pathBytes: Buffer.concat(components.flatMap((c) => [Buffer.from("/"), c])),
    type: node.type,
    size: node.type === "file" ? node.size : 0,
    mode: node.mode,
    mtime: new Date(Number(BigInt(node.mtimeNs) / 1_000_000n)),
    mtimeNs: node.mtimeNs,
    uid: node.uid,
    gid: node.gid,
    node,
  };
  if (node.type === "symlink") entry.target = nodeTargetBytes(node).toString("utf8");
  return entry;
}
