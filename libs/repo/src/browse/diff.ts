import type { Repository } from "../repository.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { loadTree } from "../tree/tree-io.js";
import { type NodeType, nodeNameBytes, nodeTargetBytes, type TreeNode } from "../tree/tree-node.js";
import { displayPath } from "./snapshot-path.js";

/**
 * `+` added, `-` removed, `M` content changed (file content, symlink target,
 * device number), `T` type changed, `U` metadata only (mode, owner, mtime).
 */
export type ChangeKind = "+" | "-" | "M" | "T" | "U";

export interface DiffChange {
  change: ChangeKind;
  /** "/srv/x/file"; `pathBytes` keeps names that are not UTF-8. */
  path: string;
  pathBytes: Buffer;
  /** The type in the newer snapshot (in the older one for `-`). */
  type: NodeType;
  before?: TreeNode;
  after?: TreeNode;
}

export interface DiffTotals {
  added: number;
  removed: number;
  modified: number;
  typeChanged: number;
  metadataOnly: number;
  /**
   * Content new in the second snapshot: sizes of added files, and for a
   * modified file the blobs its new content has that its old one has not.
   */
  addedBytes: number;
  /** The same, the other way round. */
  removedBytes: number;
}

export type DiffRepository = Pick<Repository, "loadBlob" | "loadIndex" | "index">;

/**
 * The changes from snapshot `a` to snapshot `b` (restic's `diff`), in path
 * order, parents before their content. Directories whose subtree ids are
 * equal hold identical content and are not read.
 *
 * `for await (const c of diff) …`, then `diff.totals` sums what was seen.
 */
export class SnapshotDiff implements AsyncIterable<DiffChange> {
  readonly totals: DiffTotals = {
    added: 0,
    removed: 0,
    modified: 0,
    typeChanged: 0,
    metadataOnly: 0,
    addedBytes: 0,
    removedBytes: 0,
  };

  constructor(
    private readonly repo: DiffRepository,
    private readonly a: Pick<Snapshot, "tree">,
    private readonly b: Pick<Snapshot, "tree">,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<DiffChange> {
    await this.repo.loadIndex();
    if (this.a.tree === this.b.tree) return;
    yield* this.#trees(this.a.tree, this.b.tree, []);
  }

  async *#trees(aId: string, bId: string, prefix: readonly Buffer[]): AsyncGenerator<DiffChange> {
    const [aNodes, bNodes] = await Promise.all([this.#sorted(aId), this.#sorted(bId)]);
    let i = 0;
    let j = 0;
    while (i < aNodes.length || j < bNodes.length) {
      const a = aNodes[i];
      const b = bNodes[j];
      const order = !a ? 1 : !b ? -1 : Buffer.compare(a.name, b.name);
      if (order < 0 && a) {
        yield* this.#whole("-", [...prefix, a.name], a.node);
        i++;
      } else if (order > 0 && b) {
        yield* this.#whole("+", [...prefix, b.name], b.node);
        j++;
      } else if (a && b) {
        yield* this.#pair([...prefix, a.name], a.node, b.node);
        i++;
        j++;
      }
    }
  }

  async *#pair(path: Buffer[], before: TreeNode, after: TreeNode): AsyncGenerator<DiffChange> {
    if (before.type !== after.type) {
      this.totals.typeChanged++;
      this.#bytes(before, "removedBytes");
      this.#bytes(after, "addedBytes");
      yield change("T", path, after, before, after);
      if (before.type === "dir") yield* this.#below("-", path, before);
      if (after.type === "dir") yield* this.#below("+", path, after);
      return;
    }
    if (before.type === "dir") {
      if (!sameMetadata(before, after)) {
        this.totals.metadataOnly++;
        yield change("U", path, after, before, after);
      }
      if (before.subtree !== after.subtree) {
        if (!before.subtree) yield* this.#below("+", path, after);
        else if (!after.subtree) yield* this.#below("-", path, before);
        else yield* this.#trees(before.subtree, after.subtree, path);
      }
      return;
    }
    if (!sameContent(before, after)) {
      this.totals.modified++;
      if (before.type === "file") this.#contentBytes(before, after);
      yield change("M", path, after, before, after);
    } else if (!sameMetadata(before, after)) {
      this.totals.metadataOnly++;
      yield change("U", path, after, before, after);
    }
  }

  /** A node added or removed, with everything below it. */
  async *#whole(kind: "+" | "-", path: Buffer[], node: TreeNode): AsyncGenerator<DiffChange> {
    this.totals[kind === "+" ? "added" : "removed"]++;
    this.#bytes(node, kind === "+" ? "addedBytes" : "removedBytes");
    yield kind === "+" ? change("+", path, node, undefined, node) : change("-", path, node, node, undefined);
    if (node.type === "dir") yield* this.#below(kind, path, node);
  }

  async *#below(kind: "+" | "-", path: Buffer[], dir: TreeNode): AsyncGenerator<DiffChange> {
    if (!dir.subtree) return;
    for (const child of await this.#sorted(dir.subtree))
      yield* this.#whole(kind, [...path, child.name], child.node);
  }

  async #sorted(treeId: string): Promise<{ name: Buffer; node: TreeNode }[]> {
    const tree = await loadTree(this.repo, treeId);
    return tree.nodes
      .map((node) => ({ name: nodeNameBytes(node), node }))
      .sort((x, y) => Buffer.compare(x.name, y.name));
  }

  #bytes(node: TreeNode, key: "addedBytes" | "removedBytes"): void {
    if (node.type === "file") this.totals[key] += node.size;
  }

  #contentBytes(before: TreeNode, after: TreeNode): void {
    const old = new Set(before.content ?? []);
    const now = new Set(after.content ?? []);
    for (const id of now) if (!old.has(id)) this.totals.addedBytes += this.#blobLength(id);
    for (const id of old) if (!now.has(id)) this.totals.removedBytes += this.#blobLength(id);
  }

  #blobLength(id: string): number {
    return this.repo.index.lookup(id)[0]?.rawLength ?? 0;
  }
}

/** Compares two snapshots; iterate the result, then read its `totals`. */
export function diffSnapshots(
  repo: DiffRepository,
  a: Pick<Snapshot, "tree">,
  b: Pick<Snapshot, "tree">,
): SnapshotDiff {
  return new SnapshotDiff(repo, a, b);
}

function change(
  kind: ChangeKind,
  components: readonly Buffer[],
  node: TreeNode,
  before: TreeNode | undefined,
  after: TreeNode | undefined,
): DiffChange {
  const c: DiffChange = {
    change: kind,
    path: displayPath(components),
    pathBytes: Buffer.concat(components.flatMap((p) => [Buffer.from("/"), p])),
    type: node.type,
  };
  if (before) c.before = before;
  if (after) c.after = after;
  return c;
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
  switch (a.type) {
    case "file":
      return a.size === b.size && (a.content ?? []).join() === (b.content ?? []).join();
    case "symlink":
      return nodeTargetBytes(a).equals(nodeTargetBytes(b));
    case "chardev":
    case "blockdev":
      return a.rdev === b.rdev;
    default:
      return true;
  }
}

function sameMetadata(a: TreeNode, b: TreeNode): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtimeNs === b.mtimeNs;
}
