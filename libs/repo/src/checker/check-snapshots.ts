import { isRepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import { listSnapshots } from "../snapshot/snapshot.js";
import { nodeNameBytes, type Tree, type TreeNode } from "../tree/tree-node.js";
import { forEachUniqueTree } from "../walker/unique-trees.js";
import type { CheckState } from "./check-state.js";

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Reads every snapshot and walks its whole tree: every tree blob must load
 * (which verifies it) and decode, every data blob a file references must be
 * in the index. Each tree is read once however many snapshots share it.
 * Trees load through the check's own index and are verified (§3).
 */
/** Checks the snapshots in `present` (listed before the indexes were read); later ones are the next check's. */
export async function checkSnapshots(
  repo: Repository,
  state: CheckState,
  present: ReadonlySet<string>,
): Promise<void> {
  const listed = await listSnapshots(repo, {}, (id, err) => {
    if (!present.has(id)) return;
    // Gone since the listing: a `forget` running alongside removed it.
    if (isRepoError(err, "blob_missing")) return;
    if (!isRepoError(err, "data_corrupt")) throw err;
    state.error({
      kind: "snapshot_damaged",
      file: `snapshots/${id}`,
      message: `snapshot ${id.slice(0, 12)} cannot be read (${(err as Error).message})`,
      blobs: [],
      affected: [{ snapshot: id, paths: ["/"] }],
    });
  });
  state.snapshots = listed.filter((snap) => present.has(snap.id));
  const seen = new Set<string>();
  const visitor = {
    tree: (id: string, tree: Tree) => checkTree(state, id, tree),
    damaged: (id: string, err: unknown) => {
      if (!state.index.has(id)) {
        state.missing.add(id);
        return;
      }
      state.damagedTrees.add(id);
      state.error({
        kind: "tree_damaged",
        message: `tree ${id.slice(0, 12)} cannot be read: ${(err as Error).message}`,
        blobs: [id],
      });
    },
  };
  let done = 0;
  for (const s of state.snapshots) {
    await forEachUniqueTree(state.blobs, [s.tree], seen, visitor);
    state.report.snapshotsChecked++;
    state.onProgress({ phase: "snapshots", done: ++done, total: state.snapshots.length });
  }
}

function checkTree(state: CheckState, id: string, tree: Tree): void {
  state.report.blobsChecked++;
  const problems = tree.nodes.flatMap((node) => nodeProblem(node) ?? []);
  if (problems.length) {
    state.damagedTrees.add(id);
    state.error({
      kind: "tree_damaged",
      message: `tree ${id.slice(0, 12)} has invalid entries: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}`,
      blobs: [id],
    });
  }
  for (const node of tree.nodes) {
    if (node.type !== "file" || !Array.isArray(node.content)) continue;
    for (const blob of node.content) {
      if (!state.index.has(blob)) state.missing.add(blob);
      else addMissingBases(state, blob);
    }
  }
}

/** A blob stored only delta-coded (§5.1) needs the bases of one of its copies stored whole. */
function addMissingBases(state: CheckState, blob: string): void {
  const copies = state.index.lookup(blob);
  if (copies.some((l) => state.index.decodable(l))) return;
  for (const b of copies[0]?.bases ?? []) if (!state.index.hasWhole(b)) state.missing.add(b);
}

function nodeProblem(node: TreeNode): string | undefined {
  try {
    nodeNameBytes(node);
  } catch (err) {
    return (err as Error).message;
  }
  const name = JSON.stringify(node.name ?? node.nameB64);
  if (node.type === "dir" && !(typeof node.subtree === "string" && HEX64.test(node.subtree))) {
    return `directory ${name} has no valid subtree id`;
  }
  if (node.type === "file" && node.content !== undefined) {
    const ok =
      Array.isArray(node.content) && node.content.every((c) => typeof c === "string" && HEX64.test(c));
    if (!ok) return `file ${name} has malformed content ids`;
  }
  return undefined;
}
