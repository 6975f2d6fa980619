import { RepoError } from "../errors.js";

/** Node types of a tree blob (§7). */
export type NodeType = "file" | "dir" | "symlink" | "fifo" | "chardev" | "blockdev" | "socket";

/**
 * One entry of a directory listing. Names are bytes on disk; `name` holds
 * them when they are valid UTF-8, `nameB64` otherwise (likewise symlink
 * targets), so any name a Linux file system allows round-trips.
 */
export interface TreeNode {
  name?: string;
  nameB64?: string;
  type: NodeType;
  mode: number;
  uid: number;
  gid: number;
  /** Nanoseconds since the epoch, as decimal strings (beyond 2^53). */
  mtimeNs: string;
  ctimeNs: string;
  size: number;
  inode: string;
  dev: string;
  links: number;
  content?: string[];
  subtree?: string;
  target?: string;
  targetB64?: string;
  rdev?: number;
}

export interface Tree {
  nodes: TreeNode[];
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function isAscii(bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 0x7f) return false;
  return true;
}

/** Encodes raw bytes as the `name`/`nameB64` pair. */
export function encodeName(bytes: Buffer): { name: string } | { nameB64: string } {
  if (isAscii(bytes)) return { name: bytes.toString("latin1") };
  try {
    const s = UTF8.decode(bytes);
    if (Buffer.from(s, "utf8").equals(bytes)) return { name: s };
  } catch {
    // not UTF-8: falls through to base64
  }
  return { nameB64: bytes.toString("base64") };
}

export function encodeTarget(bytes: Buffer): { target: string } | { targetB64: string } {
  const n = encodeName(bytes);
  return "name" in n ? { target: n.name } : { targetB64: n.nameB64 };
}

/** The raw bytes of a node's name; refuses names that could escape a directory (§10). */
export function nodeNameBytes(node: TreeNode): Buffer {
  const bytes =
    node.nameB64 !== undefined ? Buffer.from(node.nameB64, "base64") : Buffer.from(node.name ?? "", "utf8");
  if (
    bytes.length === 0 ||
    bytes.includes(0x2f) ||
    bytes.includes(0) ||
    (bytes.length <= 2 && /^\.\.?$/.test(bytes.toString("latin1")))
  ) {
    throw new RepoError(
      "unsafe_path",
      `refusing tree entry ${JSON.stringify(node.name ?? node.nameB64 ?? "")}: a name must not be empty, ".", ".." or contain "/" or NUL`,
    );
  }
  return bytes;
}

/** Printable ASCII without "/", and not "." or "..": the name's bytes are its characters. */
const PLAIN_NAME = /^(?!\.\.?$)[\x20-\x2e\x30-\x7e]+$/;

/**
 * The node's name bytes as a latin1 string (one character per byte), for
 * maps keyed by name; refuses unsafe names as nodeNameBytes does. A plain
 * ASCII name is its own key, with no buffer made for it.
 */
export function nodeNameKey(node: TreeNode): string {
  if (node.nameB64 === undefined && node.name !== undefined && PLAIN_NAME.test(node.name)) return node.name;
  return nodeNameBytes(node).toString("latin1");
}

export function nodeTargetBytes(node: TreeNode): Buffer {
  return node.targetB64 !== undefined
    ? Buffer.from(node.targetB64, "base64")
    : Buffer.from(node.target ?? "", "utf8");
}

export function nodeDisplayName(node: TreeNode): string {
  return node.name ?? Buffer.from(node.nameB64 ?? "", "base64").toString("utf8");
}

export function encodeTree(tree: Tree): Buffer {
  const nodes = [...tree.nodes].sort((a, b) => Buffer.compare(nodeNameBytes(a), nodeNameBytes(b)));
  return Buffer.from(JSON.stringify({ nodes }));
}

export function decodeTree(bytes: Buffer, what: string): Tree {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RepoError("data_corrupt", `${what} is not a tree`);
  }
  const nodes = (json as { nodes?: unknown }).nodes;
  if (!Array.isArray(nodes)) throw new RepoError("data_corrupt", `${what} is not a tree`);
  return { nodes: nodes as TreeNode[] };
}
