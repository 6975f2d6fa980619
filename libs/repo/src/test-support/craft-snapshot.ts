import { PROGRAM } from "../archiver/archiver.js";
import type { Repository } from "../repository.js";
import { loadSnapshot, type SnapshotEntry, saveSnapshot } from "../snapshot/snapshot.js";
import type { NodeType, TreeNode } from "../tree/tree-node.js";
import type { WriteSession } from "../write-session.js";

/**
 * Hand-built snapshot content, written without the archiver and without
 * encodeTree's checks, so tests can store trees a well-behaved writer never
 * would (unsafe names, duplicate names).
 */
export type CraftedEntry = { name: string | Buffer; meta?: Partial<TreeNode> } & (
  | { type: "file"; data?: Buffer | string; content?: string[]; size?: number }
  | { type: "dir"; children: CraftedEntry[] }
  | { type: "symlink"; target: string }
);

export function craftedNode(name: string | Buffer, type: NodeType, extra: Partial<TreeNode> = {}): TreeNode {
  const n = typeof name === "string" ? { name } : { nameB64: name.toString("base64") };
  return {
    ...n,
    type,
    mode: type === "dir" ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    mtimeNs: "1700000000000000000",
    ctimeNs: "1700000000000000000",
    size: 0,
    inode: "0",
    dev: "0",
    links: 1,
    ...extra,
  };
}

async function saveEntries(session: WriteSession, entries: CraftedEntry[]): Promise<string> {
  const nodes: TreeNode[] = [];
  for (const e of entries) {
    const meta = e.meta ?? {};
    if (e.type === "dir") {
      nodes.push(craftedNode(e.name, "dir", { ...meta, subtree: await saveEntries(session, e.children) }));
    } else if (e.type === "symlink") {
      nodes.push(craftedNode(e.name, "symlink", { ...meta, target: e.target }));
    } else {
      const data = Buffer.from(e.data ?? "");
      const content = e.content ?? (data.length ? [(await session.saveBlob("data", data)).id] : []);
      nodes.push(craftedNode(e.name, "file", { ...meta, size: e.size ?? data.length, content }));
    }
  }
  // Raw JSON, in the given order: no sorting, no name checks.
  return (await session.saveBlob("tree", Buffer.from(JSON.stringify({ nodes })))).id;
}

/** Saves `entries` as the root tree of a new snapshot. */
export async function craftSnapshot(
  repo: Repository,
  entries: CraftedEntry[],
  withSession?: (session: WriteSession) => Promise<void>,
): Promise<SnapshotEntry> {
  await repo.loadIndex();
  const session = repo.startWrite();
  await withSession?.(session);
  const tree = await saveEntries(session, entries);
  await session.flush();
  const id = await saveSnapshot(repo, {
    time: new Date().toISOString(),
    host: "crafted",
    paths: ["/crafted"],
    tags: [],
    tree,
    program: PROGRAM,
    summary: { files: 0, dirs: 0, bytes: 0, addedBytes: 0, durationMs: 0 },
  });
  return loadSnapshot(repo, id);
}
