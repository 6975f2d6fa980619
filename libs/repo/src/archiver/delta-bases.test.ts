import { describe, expect, it } from "vitest";
import { MasterIndex } from "../index/master-index.js";
import type { PackEntry } from "../pack/pack-format.js";
import { DeltaBases } from "./delta-bases.js";
import { Budget } from "./limiter.js";

const KiB = 1024;

function id(n: number): string {
  return n.toString(16).padStart(64, "0");
}

/** A repository whose parent file is chunks of the given sizes (ids 1, 2, …), all stored whole unless `bases` says. */
function fakeRepo(sizes: number[], bases: Record<number, number[]> = {}) {
  const index = new MasterIndex();
  const entries: PackEntry[] = sizes.map((size, i) => ({
    type: "data",
    id: id(i + 1),
    offset: i,
    length: 1,
    rawLength: size,
    bases: bases[i + 1]?.map(id),
  }));
  for (const [, b] of Object.entries(bases))
    for (const n of b)
      entries.push({ type: "data", id: id(n), offset: 100 + n, length: 1, rawLength: 1000 * KiB });
  index.addPack("p".repeat(64), entries);
  const loaded: string[] = [];
  const repo = {
    index,
    deltaCoding: true,
    loadBlob: async (blob: string) => {
      loaded.push(blob);
      return Buffer.alloc(index.lookup(blob)[0]?.rawLength ?? 0, blob.slice(-2));
    },
  };
  return { repo, parent: sizes.map((_, i) => id(i + 1)), loaded };
}

async function choose(bases: DeltaBases, start: number, length: number, chunk: string, stored = false) {
  return (await bases.chunk(start, length).choose(chunk, stored))?.bases.map((b) => Number.parseInt(b, 16));
}

describe("DeltaBases", () => {
  it("tries each new chunk against the parent chunks its range overlaps", async () => {
    const { repo, parent } = fakeRepo([1000 * KiB, 1000 * KiB, 1000 * KiB]);
    const bases = DeltaBases.for(repo, parent, new Budget(64 * KiB * KiB)) as DeltaBases;
    expect(await choose(bases, 0, 1000 * KiB, id(90))).toEqual([1]);
    // A boundary vanished: the next new chunk spans the parent's second and third.
    expect(await choose(bases, 1000 * KiB, 2000 * KiB, id(91))).toEqual([2, 3]);
  });

  it("re-anchors on an unchanged chunk and on a parent boundary near the expected place", async () => {
    const { repo, parent } = fakeRepo([500 * KiB, 500 * KiB, 500 * KiB, 500 * KiB]);
    const bases = DeltaBases.for(repo, parent, new Budget(64 * KiB * KiB)) as DeltaBases;
    // 300 KiB were inserted before the second chunk, which is unchanged.
    expect(await choose(bases, 0, 800 * KiB, id(90))).toEqual([1, 2]);
    expect(await choose(bases, 800 * KiB, 500 * KiB, id(2), true)).toBeUndefined();
    // Mapped back by the 300 KiB drift: the parent's third chunk.
    expect(await choose(bases, 1300 * KiB, 500 * KiB, id(91))).toEqual([3]);
    // 20 KiB deleted: within the snap distance of the fourth chunk's start, which it then lines up with.
    expect(await choose(bases, 1780 * KiB, 500 * KiB, id(92))).toEqual([4]);
  });

  it("uses the bases of a delta-coded parent chunk, so no delta is two deep", async () => {
    const { repo, parent } = fakeRepo([1000 * KiB, 1000 * KiB], { 2: [7] });
    const bases = DeltaBases.for(repo, parent, new Budget(64 * KiB * KiB)) as DeltaBases;
    expect(await choose(bases, 0, 1000 * KiB, id(90))).toEqual([1]);
    expect(await choose(bases, 1000 * KiB, 1000 * KiB, id(91))).toEqual([7]);
  });

  it("stops trying after deltas that did not pay off, and decides in chunk order", async () => {
    const { repo, parent, loaded } = fakeRepo(Array(8).fill(500 * KiB));
    const bases = DeltaBases.for(repo, parent, new Budget(64 * KiB * KiB)) as DeltaBases;
    const choices = Array.from({ length: 6 }, (_, i) => bases.chunk(i * 500 * KiB, 500 * KiB));
    // Answered out of order: the sixth waits for the five before it.
    const late = choices[5]?.choose(id(95), false);
    for (const [i, c] of choices.slice(0, 4).entries()) {
      expect(await c.choose(id(90 + i), false)).toBeDefined();
      c.settled(false);
    }
    expect(await choices[4]?.choose(id(94), false)).toBeUndefined();
    expect(await late).toBeUndefined();
    expect(loaded.length).toBe(4);
  });

  it("codes nothing for a repository without deltas or a parent whose blobs are unknown", () => {
    const { repo, parent } = fakeRepo([1000 * KiB]);
    expect(DeltaBases.for({ ...repo, deltaCoding: false }, parent, new Budget(1))).toBeUndefined();
    expect(DeltaBases.for(repo, [id(55)], new Budget(1))).toBeUndefined();
    expect(DeltaBases.for(repo, [], new Budget(1))).toBeUndefined();
  });
});
