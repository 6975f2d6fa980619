import { describe, expect, it } from "vitest";
import type { FileHandle } from "../backend/backend.js";
import { RepoError } from "../errors.js";
import { seededBytes } from "../test-support/fixtures.js";
import { CoalescingPackReader } from "./coalescing-pack-reader.js";

/** Packs in memory; records every ranged read it serves. */
function packStore(packs: Record<string, Buffer>) {
  const reads: { pack: string; offset: number; length: number }[] = [];
  return {
    reads,
    async load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
      const pack = packs[handle.name];
      if (!pack || !range) throw new Error("whole-file loads are not expected");
      reads.push({ pack: handle.name, ...range });
      if (range.offset + range.length > pack.length)
        throw new RepoError("data_corrupt", `data/${handle.name} is truncated`);
      return Buffer.from(pack.subarray(range.offset, range.offset + range.length));
    },
  };
}

describe("coalescing pack reader", () => {
  const a = seededBytes("pack a", 400_000);
  const b = seededBytes("pack b", 10_000);

  it("serves neighbouring blobs asked for together with one read per pack neighbourhood", async () => {
    const store = packStore({ a, b });
    const reader = new CoalescingPackReader(store);
    const wanted = [
      { pack: "a", offset: 0, length: 2_000 },
      { pack: "a", offset: 2_000, length: 3_000 },
      { pack: "a", offset: 40_000, length: 1_000 },
      { pack: "b", offset: 100, length: 900 },
      // Beyond the merge gap of the others: a read of its own.
      { pack: "a", offset: 300_000, length: 5_000 },
    ];
    const got = await Promise.all(wanted.map((w) => reader.read(w.pack, w)));
    for (const [i, w] of wanted.entries()) {
      const pack = w.pack === "a" ? a : b;
      expect(got[i]?.equals(pack.subarray(w.offset, w.offset + w.length))).toBe(true);
    }
    expect(store.reads).toEqual([
      { pack: "a", offset: 0, length: 41_000 },
      { pack: "a", offset: 300_000, length: 5_000 },
      { pack: "b", offset: 100, length: 900 },
    ]);
  });

  it("gives every request its own buffer, so moving one to a worker leaves the others whole", async () => {
    const reader = new CoalescingPackReader(packStore({ a }));
    const [first, second] = await Promise.all([
      reader.read("a", { offset: 10, length: 500 }),
      reader.read("a", { offset: 10, length: 500 }),
    ]);
    structuredClone(first?.buffer, { transfer: [first?.buffer as ArrayBuffer] });
    expect(second?.equals(a.subarray(10, 510))).toBe(true);
  });

  it("fails only the blob a truncated pack cuts off; its neighbours are read again alone", async () => {
    const store = packStore({ b });
    const reader = new CoalescingPackReader(store);
    const good = reader.read("b", { offset: 0, length: 1_000 });
    const cut = reader.read("b", { offset: 9_500, length: 1_000 });
    expect((await good).equals(b.subarray(0, 1_000))).toBe(true);
    await expect(cut).rejects.toMatchObject({ code: "data_corrupt" });
    expect(store.reads).toEqual([
      { pack: "b", offset: 0, length: 10_500 },
      { pack: "b", offset: 0, length: 1_000 },
      { pack: "b", offset: 9_500, length: 1_000 },
    ]);
  });

  it("reads large blobs at once, unmerged", async () => {
    const store = packStore({ a });
    const reader = new CoalescingPackReader(store);
    const [big, small] = await Promise.all([
      reader.read("a", { offset: 0, length: 300_000 }),
      reader.read("a", { offset: 300_000, length: 100 }),
    ]);
    expect(big?.equals(a.subarray(0, 300_000))).toBe(true);
    expect(small?.equals(a.subarray(300_000, 300_100))).toBe(true);
    expect(store.reads).toHaveLength(2);
  });
});
