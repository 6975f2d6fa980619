import { describe, expect, it } from "vitest";
import { craftedNode } from "../test-support/craft-snapshot.js";
import { encodeTree, type Tree, type TreeNode } from "../tree/tree-node.js";
import { ParentTrees } from "./parent-trees.js";

function node(name: string, subtree?: string): TreeNode {
  return subtree ? craftedNode(name, "dir", { subtree }) : craftedNode(name, "file", { content: [] });
}

/**
 * A snapshot of `width` directories per level, `depth` levels, each with a
 * file; tree ids are the directory paths. Records every tree load.
 */
function treeStore(width: number, depth: number) {
  const trees = new Map<string, Tree>();
  const build = (id: string, level: number): void => {
    const dirs = level < depth ? Array.from({ length: width }, (_, i) => `${id}/d${i}`) : [];
    for (const d of dirs) build(d, level + 1);
    trees.set(id, { nodes: [node("f"), ...dirs.map((d) => node(d.split("/").at(-1) as string, d))] });
  };
  build("root", 0);
  const loads: string[] = [];
  return {
    trees,
    loads,
    async loadBlob(id: string): Promise<Buffer> {
      loads.push(id);
      const tree = trees.get(id);
      if (!tree) throw new Error(`no tree ${id}`);
      return encodeTree(tree);
    },
  };
}

/** Walks like the archiver: depth first, taking each directory's tree, leaving it when done. */
async function walk(parents: ParentTrees, id: string, skip: (id: string) => boolean, seen: string[]) {
  const tree = await parents.take(id);
  seen.push(id);
  for (const n of tree?.nodes ?? []) {
    if (n.type === "dir" && n.subtree && !skip(n.subtree)) await walk(parents, n.subtree, skip, seen);
  }
  parents.leave(tree?.nodes);
}

describe("parent trees read ahead of the walk", () => {
  it("hands every tree to the walk, loading each once", async () => {
    const store = treeStore(4, 4);
    const seen: string[] = [];
    await walk(new ParentTrees(store), "root", () => false, seen);
    expect(seen.length).toBe(store.trees.size);
    expect(new Set(seen).size).toBe(store.trees.size);
    expect(store.loads.sort()).toEqual([...store.trees.keys()].sort());
  });

  it("reads ahead in the walk's order, so the next directory is usually loaded already", async () => {
    const store = treeStore(3, 4);
    const parents = new ParentTrees(store);
    let waited = 0;
    const walkTimed = async (id: string): Promise<void> => {
      const taken = parents.take(id);
      let ready = false;
      void taken.then(() => {
        ready = true;
      });
      await Promise.resolve();
      await Promise.resolve();
      if (!ready) waited++;
      const tree = await taken;
      for (const n of tree?.nodes ?? []) if (n.type === "dir" && n.subtree) await walkTimed(n.subtree);
      parents.leave(tree?.nodes);
    };
    await walkTimed("root");
    // 121 trees: without read-ahead the walk would wait for every one.
    expect(waited).toBeLessThan(store.trees.size / 4);
  });

  it("reads a skipped directory's trees at most once, and nothing more after the walk", async () => {
    const store = treeStore(3, 5);
    const seen: string[] = [];
    // Skip root/d0 entirely (excluded, or gone from disk).
    await walk(new ParentTrees(store), "root", (id) => id.startsWith("root/d0"), seen);
    expect(seen.some((id) => id.startsWith("root/d0"))).toBe(false);
    const after = store.loads.length;
    await new Promise((r) => setTimeout(r, 20));
    expect(store.loads.length).toBe(after);
    expect(new Set(store.loads).size).toBe(store.loads.length);
  });

  it("treats a tree that cannot be loaded as no parent", async () => {
    const store = treeStore(2, 2);
    store.trees.delete("root/d1");
    const parents = new ParentTrees(store);
    const seen: string[] = [];
    await walk(parents, "root", () => false, seen);
    expect(seen).toContain("root/d1");
    expect(await parents.take("root/d1")).toBeUndefined();
  });
});
