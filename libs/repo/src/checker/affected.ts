import { isRepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import type { SnapshotEntry } from "../snapshot/snapshot.js";
import { loadTree } from "../tree/tree-io.js";
import { nodeDisplayName, type Tree } from "../tree/tree-node.js";
import type { AffectedSnapshot, CheckError } from "./check-report.js";

interface Hit {
  /** Relative to the tree it was found under: "" for that tree itself, else "/a/b". */
  path: string;
  blob: string;
}

/** Lost blob → snapshot → paths that reference it. */
type BlobUses = Map<string, Map<string, Set<string>>>;

const NONE: readonly Hit[] = [];

/**
 * Finds where lost blobs are used below a tree. A tree's hits are the same
 * wherever it appears, so each tree is read once; trees are
 * content-addressed, so there is no cycle to guard against.
 */
class LostBlobFinder {
  readonly #memo = new Map<string, readonly Hit[]>();

  constructor(
    private readonly repo: Pick<Repository, "loadBlob">,
    private readonly isLost: (id: string) => boolean,
  ) {}

  async under(treeId: string): Promise<readonly Hit[]> {
    const cached = this.#memo.get(treeId);
    if (cached) return cached;
    const hits = this.isLost(treeId)
      ? [{ path: "", blob: treeId }]
      : await this.#in(await this.#read(treeId));
    this.#memo.set(treeId, hits.length ? hits : NONE);
    return hits;
  }

  async #in(tree: Tree | undefined): Promise<Hit[]> {
    const hits: Hit[] = [];
    for (const node of tree?.nodes ?? []) {
      const path = `/${nodeDisplayName(node)}`;
      for (const blob of Array.isArray(node.content) ? node.content : []) {
        if (this.isLost(blob)) hits.push({ path, blob });
      }
      if (node.type === "dir" && typeof node.subtree === "string") {
        for (const h of await this.under(node.subtree)) hits.push({ path: path + h.path, blob: h.blob });
      }
    }
    return hits;
  }

  /** A damaged tree not counted as lost has an intact copy loadBlob did not reach; nothing below it is known lost. */
  async #read(id: string): Promise<Tree | undefined> {
    try {
      return await loadTree(this.repo, id);
    } catch (err) {
      if (isRepoError(err, "data_corrupt") || isRepoError(err, "blob_missing")) return undefined;
      throw err;
    }
  }
}

/** Fills in, for each error, the snapshots and paths that reference the blobs it lost. */
export async function attachAffected(
  repo: Pick<Repository, "loadBlob">,
  snapshots: readonly SnapshotEntry[],
  errors: CheckError[],
  isLost: (id: string) => boolean,
  onSnapshot: (done: number) => void,
): Promise<void> {
  const finder = new LostBlobFinder(repo, isLost);
  const uses: BlobUses = new Map();
  for (const [i, s] of snapshots.entries()) {
    for (const hit of await finder.under(s.tree)) addUse(uses, hit.blob, s.id, hit.path || "/");
    onSnapshot(i + 1);
  }
  const order = new Map(snapshots.map((s, i) => [s.id, i]));
  for (const e of errors) {
    if (e.kind !== "snapshot_damaged") e.affected = collect(e.blobs, uses, order);
  }
}

function addUse(uses: BlobUses, blob: string, snapshot: string, path: string): void {
  const bySnapshot = uses.get(blob) ?? new Map<string, Set<string>>();
  uses.set(blob, bySnapshot);
  const paths = bySnapshot.get(snapshot) ?? new Set<string>();
  bySnapshot.set(snapshot, paths);
  paths.add(path);
}

function collect(
  blobs: readonly string[],
  uses: BlobUses,
  order: ReadonlyMap<string, number>,
): AffectedSnapshot[] {
  const merged = new Map<string, Set<string>>();
  for (const blob of blobs) {
    for (const [snapshot, paths] of uses.get(blob) ?? []) {
      const set = merged.get(snapshot) ?? new Set<string>();
      for (const p of paths) set.add(p);
      merged.set(snapshot, set);
    }
  }
  return [...merged]
    .sort(([a], [b]) => (order.get(a) ?? 0) - (order.get(b) ?? 0))
    .map(([snapshot, paths]) => ({ snapshot, paths: [...paths].sort() }));
}
