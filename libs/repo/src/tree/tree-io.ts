import type { Repository } from "../repository.js";
import type { WriteSession } from "../write-session.js";
import { decodeTree, encodeTree, nodeNameBytes, type Tree, type TreeNode } from "./tree-node.js";

export async function loadTree(repo: Pick<Repository, "loadBlob">, id: string): Promise<Tree> {
  return decodeTree(await repo.loadBlob(id, "tree"), `tree ${id.slice(0, 12)}`);
}

export async function saveTree(session: WriteSession, tree: Tree): Promise<{ id: string; added: number }> {
  return session.saveBlob("tree", encodeTree(tree));
}

/** A node reached by a walk, with its path from the snapshot root as raw bytes. */
export interface WalkedNode {
  path: Buffer;
  node: TreeNode;
}

const SLASH = Buffer.from("/");

export function childPath(parent: Buffer, node: TreeNode): Buffer {
  return joinPath(parent, nodeNameBytes(node));
}

/** dir + "/" + name on raw bytes; the root "/" gets no second slash. */
export function joinPath(dir: Buffer, name: Buffer): Buffer {
  return dir.length === 1 && dir[0] === 0x2f ? Buffer.concat([dir, name]) : Buffer.concat([dir, SLASH, name]);
}

/** Depth-first walk of a tree, parents before children; directories are yielded too. */
export async function* walkTree(
  repo: Pick<Repository, "loadBlob">,
  treeId: string,
  prefix: Buffer = Buffer.alloc(0),
): AsyncGenerator<WalkedNode> {
  const tree = await loadTree(repo, treeId);
  for (const node of tree.nodes) {
    const path = childPath(prefix, node);
    yield { path, node };
    if (node.type === "dir" && node.subtree) yield* walkTree(repo, node.subtree, path);
  }
}

/** Finds the node at `path` (components as raw bytes) below a root tree. */
export async function findNode(
  repo: Pick<Repository, "loadBlob">,
  rootTree: string,
  components: readonly Buffer[],
): Promise<TreeNode | undefined> {
  let treeId: string | undefined = rootTree;
  let found: TreeNode | undefined;
  for (const part of components) {
    if (!treeId) return undefined;
    const tree = await loadTree(repo, treeId);
    found = tree.nodes.find((n) => nodeNameBytes(n).equals(part));
    if (!found) return undefined;
    treeId = found.type === "dir" ? found.subtree : undefined;
  }
  return found;
}

/** Splits "/a/b/c" into byte components, ignoring empty ones. */
export function splitPath(path: string | Buffer): Buffer[] {
  const bytes = typeof path === "string" ? Buffer.from(path, "utf8") : path;
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x2f) {
      if (i > start) parts.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return parts;
}
