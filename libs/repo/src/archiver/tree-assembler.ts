import { saveTree } from "../tree/tree-io.js";
import { encodeName, type TreeNode } from "../tree/tree-node.js";
import type { WriteSession } from "../write-session.js";

/**
 * The directories above the backed-up paths ("/", "/var", "/var/log" for
 * "/var/log/piwardrive"): they exist only to hold the paths, so they are
 * kept in memory and written as trees when the snapshot is finished.
 */
export class TreeAssembler {
  readonly #children = new Map<string, TreeAssembler>();
  readonly #leaves = new Map<string, TreeNode>();
  node: TreeNode | undefined;

  /** The assembler of the directory at `components` (raw names), created with `meta` on first use. */
  dir(components: readonly Buffer[], metaFor: (depth: number) => TreeNode): TreeAssembler {
    let current: TreeAssembler = this;
    components.forEach((part, depth) => {
      const key = part.toString("latin1");
      let next = current.#children.get(key);
      if (!next) {
        next = new TreeAssembler();
        next.node = metaFor(depth);
        current.#children.set(key, next);
      }
      current = next;
    });
    return current;
  }

  /** Adds a finished node; a later node with the same name replaces the earlier one. */
  add(nameBytes: Buffer, node: TreeNode): void {
    this.#leaves.set(nameBytes.toString("latin1"), node);
  }

  /** Saves this directory level (children first) and returns its tree id. */
  async save(session: WriteSession): Promise<string> {
    const nodes = new Map(this.#leaves);
    for (const [key, child] of this.#children) {
      // A leaf of the same name is a backed-up path that contains this one
      // ("/a" and "/a/b" both given): its tree already holds everything.
      if (nodes.has(key) || !child.node) continue;
      const { name: _name, nameB64: _nameB64, ...meta } = child.node;
      nodes.set(key, {
        ...meta,
        ...encodeName(Buffer.from(key, "latin1")),
        subtree: await child.save(session),
      });
    }
    return (await saveTree(session, { nodes: [...nodes.values()] })).id;
  }
}
