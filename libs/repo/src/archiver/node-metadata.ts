import type { BigIntStats } from "node:fs";
import type { NodeType, TreeNode } from "../tree/tree-node.js";

export function nodeType(s: BigIntStats): NodeType | undefined {
  if (s.isFile()) return "file";
  if (s.isDirectory()) return "dir";
  if (s.isSymbolicLink()) return "symlink";
  if (s.isFIFO()) return "fifo";
  if (s.isCharacterDevice()) return "chardev";
  if (s.isBlockDevice()) return "blockdev";
  if (s.isSocket()) return "socket";
  return undefined;
}

/** The metadata part of a node, from lstat(…, { bigint: true }). */
export function metadataNode(
  name: { name: string } | { nameB64: string },
  type: NodeType,
  s: BigIntStats,
): TreeNode {
  const node: TreeNode = {
    ...name,
    type,
    mode: Number(s.mode) & 0o7777,
    uid: Number(s.uid),
    gid: Number(s.gid),
    mtimeNs: s.mtimeNs.toString(),
    ctimeNs: s.ctimeNs.toString(),
    size: type === "file" ? Number(s.size) : 0,
    inode: s.ino.toString(),
    dev: s.dev.toString(),
    links: Number(s.nlink),
  };
  if (type === "chardev" || type === "blockdev") node.rdev = Number(s.rdev);
  return node;
}

/** Whether a file may be taken from the parent snapshot without reading it. */
export function unchanged(current: TreeNode, parent: TreeNode | undefined): boolean {
  return (
    parent !== undefined &&
    parent.type === "file" &&
    parent.content !== undefined &&
    parent.size === current.size &&
    parent.mtimeNs === current.mtimeNs &&
    parent.ctimeNs === current.ctimeNs &&
    parent.inode === current.inode
  );
}

/**
 * Whether a node of the parent snapshot holds exactly the metadata lstat
 * reports now. Such a node can be reused as it is: comparing costs less
 * than building a new node, and an unchanged directory keeps its tree.
 */
export function sameStats(node: TreeNode, s: BigIntStats): boolean {
  return (
    node.type === nodeType(s) &&
    node.mode === (Number(s.mode) & 0o7777) &&
    node.uid === Number(s.uid) &&
    node.gid === Number(s.gid) &&
    node.size === (node.type === "file" ? Number(s.size) : 0) &&
    node.links === Number(s.nlink) &&
    node.mtimeNs === s.mtimeNs.toString() &&
    node.ctimeNs === s.ctimeNs.toString() &&
    node.inode === s.ino.toString() &&
    node.dev === s.dev.toString() &&
    node.rdev === undefined
  );
}
