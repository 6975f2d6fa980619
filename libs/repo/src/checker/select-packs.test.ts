import { describe, expect, it } from "vitest";
import { selectPacks } from "./select-packs.js";

const packs = new Map(
  Array.from({ length: 300 }, (_, i) => [
    i.toString(16).padStart(2, "0").repeat(32).slice(0, 60) + i.toString(16).padStart(4, "0"),
    1000 + i,
  ]),
);

describe("read-data subset selection", () => {
  it("reads everything for 'all'", () => {
    expect(selectPacks(packs, "all")).toHaveLength(300);
  });

  it("splits packs by the first byte of their id so that parts 1..t cover every pack once", () => {
    const seen: string[] = [];
    for (let part = 1; part <= 5; part++) {
      const chosen = selectPacks(packs, { part, of: 5 });
      for (const id of chosen) expect(Number.parseInt(id.slice(0, 2), 16) % 5).toBe(part - 1);
      seen.push(...chosen);
    }
    expect(seen.sort()).toEqual([...packs.keys()].sort());
  });

  it("picks a random share of the packs, at least one", () => {
    const a = selectPacks(packs, { fraction: 0.1 });
    const b = selectPacks(packs, { fraction: 0.1 });
    expect(a).toHaveLength(30);
    expect(a).not.toEqual(b);
    expect(selectPacks(packs, { fraction: 0.0001 })).toHaveLength(1);
    expect(selectPacks(new Map(), { fraction: 0.5 })).toEqual([]);
  });

  it("picks random packs up to a number of bytes, and one pack when every pack is larger", () => {
    const chosen = selectPacks(packs, { bytes: 20_000 });
    const total = chosen.reduce((n, id) => n + (packs.get(id) ?? 0), 0);
    expect(total).toBeLessThanOrEqual(20_000);
    expect(total).toBeGreaterThan(20_000 - 1300);
    expect(selectPacks(packs, { bytes: 10 })).toHaveLength(1);
  });

  it("refuses nonsense", () => {
    for (const bad of [
      { part: 0, of: 3 },
      { part: 4, of: 3 },
      { part: 1, of: 0 },
      { fraction: 0 },
      { fraction: 1.5 },
      { bytes: 0 },
    ]) {
      expect(() => selectPacks(packs, bad)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
    }
  });
});
