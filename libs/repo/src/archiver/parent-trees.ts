import type { Repository } from "../repository.js";
import { loadTree } from "../tree/tree-io.js";
import type { Tree, TreeNode } from "../tree/tree-node.js";

/** Trees loaded at once by the read-ahead. */
const LOADS_IN_FLIGHT = 8;
/** Read-ahead pauses while the trees waiting for the walk hold this many nodes. */
const MAX_NODES_AHEAD = 50_000;

interface Entry {
  tree: Promise<Tree | undefined>;
  /** Loaded while still waiting for the walk: counted in the nodes ahead. */
  loaded?: Tree;
  /** Dropped by `leave`: its subtrees are not read ahead. */
  dropped: boolean;
}

/**
 * The parent snapshot's trees, read ahead of the backup's walk that compares
 * each directory against them. The read-ahead goes depth first in name
 * order, as the walk does, so it stays just ahead of it instead of waiting
 * for a read per directory; it is bounded by the nodes it holds. A tree the
 * walk reaches first is loaded then. A missing or damaged tree just means
 * "no parent here".
 */
export class ParentTrees {
  /** Read ahead (loading or loaded) and not taken yet. */
  readonly #ahead = new Map<string, Entry>();
  #nodesAhead = 0;
  /** Subtrees still to read ahead; the top is the next one the walk reaches. */
  readonly #stack: string[] = [];
  readonly #queued = new Set<string>();
  #loading = 0;

  constructor(private readonly repo: Pick<Repository, "loadBlob">) {}

  /** The tree of the directory the walk enters now. */
  take(id: string): Promise<Tree | undefined> {
    this.#queued.delete(id);
    const entry = this.#ahead.get(id);
    if (entry) {
      this.#forget(id, entry);
      return entry.tree;
    }
    return this.#load(id).tree;
  }

  /** The walk has left a directory: what was read ahead below it and not taken (excluded, gone) is dropped. */
  leave(nodes: readonly TreeNode[] | undefined): void {
    for (const n of nodes ?? []) if (n.type === "dir" && n.subtree) this.#drop(n.subtree);
    this.#pump();
  }

  #load(id: string): Entry {
    const entry: Entry = { tree: Promise.resolve(undefined), dropped: false };
    entry.tree = loadTree(this.repo, id).then(
      (tree) => {
        if (!entry.dropped) this.#queueSubtrees(tree);
        return tree;
      },
      () => undefined,
    );
    return entry;
  }

  #queueSubtrees(tree: Tree): void {
    for (let i = tree.nodes.length - 1; i >= 0; i--) {
      const n = tree.nodes[i] as TreeNode;
      if (n.type !== "dir" || !n.subtree || this.#queued.has(n.subtree)) continue;
      this.#stack.push(n.subtree);
      this.#queued.add(n.subtree);
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#loading < LOADS_IN_FLIGHT && this.#nodesAhead < MAX_NODES_AHEAD) {
      const id = this.#stack.pop();
      if (id === undefined) return;
      if (this.#queued.delete(id) && !this.#ahead.has(id)) this.#readAhead(id);
    }
  }

  #readAhead(id: string): void {
    this.#loading++;
    const entry = this.#load(id);
    this.#ahead.set(id, entry);
    entry.tree.then((tree) => {
      this.#loading--;
      if (tree && this.#ahead.get(id) === entry) {
        entry.loaded = tree;
        this.#nodesAhead += tree.nodes.length;
      }
      this.#pump();
    });
  }

  #forget(id: string, entry: Entry): void {
    this.#ahead.delete(id);
    if (entry.loaded) this.#nodesAhead -= entry.loaded.nodes.length;
  }

  #drop(id: string): void {
    this.#queued.delete(id);
    const entry = this.#ahead.get(id);
    if (!entry) return;
    entry.dropped = true;
    this.#forget(id, entry);
    for (const n of entry.loaded?.nodes ?? []) if (n.type === "dir" && n.subtree) this.#drop(n.subtree);
  }
}
