import { describe, expect, it } from "vitest";
import { craftSnapshot } from "../test-support/craft-snapshot.js";
import { tempRepository } from "../test-support/fixtures.js";
import type { Tree } from "../tree/tree-node.js";
import { TreeCache } from "./tree-cache.js";

/** Two identical directories (one tree id, listed twice) below a wide, two-level tree. */
async function nestedSnapshot() {
  const { repo } = await tempRepository();
  const same = { type: "dir" as const, children: [{ name: "f", type: "file" as const, data: "same\n" }] };
  const wide = Array.from({ length: 20 }, (_, i) => ({
    name: `d${i}`,
    type: "dir" as const,
    children: [{ name: "inner", type: "dir" as const, children: [{ name: `f${i}`, type: "file" as const }] }],
  }));
  const snapshot = await craftSnapshot(repo, [...wide, { name: "a", ...same }, { name: "b", ...same }]);
  const loads = new Map<string, number>();
  const counting = {
    loadBlob: (id: string, type?: "data" | "tree") => {
      loads.set(id, (loads.get(id) ?? 0) + 1);
      return repo.loadBlob(id, type);
    },
  };
  return { repo, snapshot, counting, loads };
}

describe("TreeCache", () => {
  it("walks every tree, a shared one once per listing, and loads each tree once", async () => {
    const { repo, snapshot, counting, loads } = await nestedSnapshot();
    try {
      const cache = new TreeCache(counting);
      const seen: Tree[] = [];
      await cache.walk([snapshot.tree], (tree) => seen.push(tree), 4);
      // root + 20 d* + 20 inner + a + b (same tree listed twice)
      expect(seen.length).toBe(43);
      expect(seen.flatMap((t) => t.nodes).filter((n) => n.type === "file").length).toBe(22);
      expect(Math.max(...loads.values())).toBe(1);
      // Later passes take the trees from the cache.
      await cache.walk([snapshot.tree], () => {});
      await cache.get(snapshot.tree);
      expect(Math.max(...loads.values())).toBe(1);
    } finally {
      await repo.close();
    }
  });

  it("stops keeping trees past its node limit, and does not keep a failed load", async () => {
    const { repo, snapshot, counting, loads } = await nestedSnapshot();
    try {
      const small = new TreeCache(counting, 1);
      await small.walk([snapshot.tree], () => {});
      await small.walk([snapshot.tree], () => {});
      // The root (22 nodes) filled the cache: every other tree was loaded again.
      expect(loads.get(snapshot.tree)).toBe(1);
      expect([...loads.values()].filter((n) => n > 1).length).toBeGreaterThan(20);

      const missing = "ab".repeat(32);
      const cache = new TreeCache(counting);
      await expect(cache.walk([missing], () => {})).rejects.toMatchObject({ code: "blob_missing" });
      await expect(cache.get(missing)).rejects.toMatchObject({ code: "blob_missing" });
      expect(loads.get(missing)).toBe(2);
    } finally {
      await repo.close();
    }
  });
});
