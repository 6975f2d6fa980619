import { Budget } from "../archiver/limiter.js";
import { loadCheckedTree } from "../browse/snapshot-path.js";
import type { Repository } from "../repository.js";
import type { Tree } from "../tree/tree-node.js";

/**
 * Trees a restore has loaded and checked (loadCheckedTree), kept for its
 * later passes: it reads every tree up to three times (progress totals,
 * directories first, then the files), and each load is a pack read, a
 * decryption and a verification on the main thread, before any file is
 * written. Bounded by node count, so a huge snapshot only loses the reuse.
 */
export class TreeCache {
  readonly #trees = new Map<string, Promise<Tree>>();
  #nodes = 0;

  constructor(
    private readonly repo: Pick<Repository, "loadBlob">,
    private readonly maxNodes = 100_000,
  ) {}

  get(id: string): Promise<Tree> {
    const cached = this.#trees.get(id);
    if (cached) return cached;
    const loading = loadCheckedTree(this.repo, id);
    if (this.#nodes < this.maxNodes) {
      this.#trees.set(id, loading);
      loading.then(
        (tree) => {
          this.#nodes += tree.nodes.length;
        },
        // A failed load is not kept: the error reaches the caller that asked.
        () => this.#trees.delete(id),
      );
    }
    return loading;
  }

  /**
   * Loads every tree below `roots`, `parallel` at a time, and calls `visit`
   * with each (a tree listed twice in the snapshot is visited twice).
   */
  async walk(roots: readonly string[], visit: (tree: Tree) => void, parallel = 8): Promise<void> {
    const slots = new Budget(parallel);
    const loads: Promise<void>[] = [];
    const load = async (id: string): Promise<void> => {
      await slots.acquire(1);
      let tree: Tree;
      try {
        tree = await this.get(id);
      } finally {
        slots.release(1);
      }
      visit(tree);
      for (const node of tree.nodes) if (node.type === "dir" && node.subtree) start(node.subtree);
    };
    const start = (id: string) => {
      const loading = load(id);
      // Awaited below in order; this keeps a later failure from being unhandled meanwhile.
      loading.catch(() => {});
      loads.push(loading);
    };
    for (const id of roots) start(id);
    // `loads` grows while the walk goes on; every load is awaited.
    for (let i = 0; i < loads.length; i++) await loads[i];
  }
}
