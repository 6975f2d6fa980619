import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Repository } from "../repository.js";
import { type Snapshot, saveSnapshot } from "../snapshot/snapshot.js";
import { saveTree } from "../tree/tree-io.js";
import type { TreeNode } from "../tree/tree-node.js";
import type { WriteSession } from "../write-session.js";

export interface BuildOptions {
  host?: string;
  paths?: string[];
  tags?: string[];
  time?: string;
  source?: { kind: string; name: string };
  /** Files are cut into blobs of this size (fixed, not content-defined: tests want to know the blobs). */
  chunkSize?: number;
}

export interface BuiltSnapshot {
  id: string;
  tree: string;
  /** Data blob ids of each file, by its path ("/dir/file"). */
  blobs: Map<string, string[]>;
}

const BASE_NODE = { mode: 0o644, uid: 0, gid: 0, mtimeNs: "0", ctimeNs: "0", inode: "0", dev: "0", links: 1 };

interface Dir {
  files: Map<string, Buffer>;
  dirs: Map<string, Dir>;
}

function dirTree(files: Record<string, Buffer | string>): Dir {
  const root: Dir = { files: new Map(), dirs: new Map() };
  for (const [path, content] of Object.entries(files)) {
    const parts = path.split("/").filter(Boolean);
    const name = parts.pop() as string;
    let dir = root;
    for (const p of parts) {
      let next = dir.dirs.get(p);
      if (!next) {
        next = { files: new Map(), dirs: new Map() };
        dir.dirs.set(p, next);
      }
      dir = next;
    }
    dir.files.set(name, Buffer.from(content));
  }
  return root;
}

async function saveDir(
  session: WriteSession,
  dir: Dir,
  prefix: string,
  chunkSize: number,
  blobs: Map<string, string[]>,
): Promise<string> {
  const nodes: TreeNode[] = [];
  for (const [name, content] of dir.files) {
    const contentIds: string[] = [];
    for (let o = 0; o < content.length; o += chunkSize) {
      contentIds.push((await session.saveBlob("data", content.subarray(o, o + chunkSize))).id);
    }
    blobs.set(`${prefix}/${name}`, contentIds);
    nodes.push({ ...BASE_NODE, name, type: "file", size: content.length, content: contentIds });
  }
  for (const [name, sub] of dir.dirs) {
    const subtree = await saveDir(session, sub, `${prefix}/${name}`, chunkSize, blobs);
    nodes.push({ ...BASE_NODE, name, type: "dir", mode: 0o755, size: 0, subtree });
  }
  return (await saveTree(session, { nodes })).id;
}

/**
 * Writes a snapshot of the given files ({ "/dir/file": content }) the way a
 * backup does: blobs → trees → flush (packs, index) → snapshot.
 */
export async function buildSnapshot(
  repo: Repository,
  files: Record<string, Buffer | string>,
  options: BuildOptions = {},
): Promise<BuiltSnapshot> {
  const session = repo.startWrite();
  const blobs = new Map<string, string[]>();
  const tree = await saveDir(session, dirTree(files), "", options.chunkSize ?? 16 * 1024, blobs);
  await session.flush();
  const snapshot: Snapshot = {
    time: options.time ?? new Date().toISOString(),
    host: options.host ?? "test-host",
    paths: options.paths ?? ["/"],
    tags: options.tags ?? [],
    tree,
    program: "pwdr test",
    summary: { files: blobs.size, dirs: 0, bytes: 0, addedBytes: session.stats.bytesAdded, durationMs: 0 },
    ...(options.source && { source: options.source }),
  };
  return { id: await saveSnapshot(repo, snapshot), tree, blobs };
}

/** The pack holding a blob (first location). */
export function packOf(repo: Repository, blobId: string): string {
  const loc = repo.index.lookup(blobId)[0];
  if (!loc) throw new Error(`blob ${blobId} is not in the index`);
  return loc.pack;
}

export function packPath(root: string, pack: string): string {
  return join(root, "data", pack.slice(0, 2), pack);
}

export async function flipByte(file: string, offset: number): Promise<void> {
  const bytes = await readFile(file);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  await writeFile(file, bytes);
}

/** Total bytes of all pack files. */
export async function packBytes(root: string): Promise<number> {
  let total = 0;
  for (const d of await readdir(join(root, "data"))) {
    for (const f of await readdir(join(root, "data", d))) {
      total += (await stat(join(root, "data", d, f))).size;
    }
  }
  return total;
}
