import { describe, expect, it } from "vitest";
import { decodeEntries, encodeEntries, type PackEntry } from "./pack-format.js";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

describe("pack entries", () => {
  it("round-trips whole and delta-coded entries", () => {
    const entries: PackEntry[] = [
      { type: "data", id: A, offset: 0, length: 10, rawLength: 20 },
      { type: "data", id: B, offset: 10, length: 5, rawLength: 900, bases: [A, C] },
      { type: "tree", id: C, offset: 15, length: 7, rawLength: 7 },
    ];
    const wire = JSON.parse(encodeEntries(entries).toString());
    expect(wire[0]).not.toHaveProperty("b");
    expect(wire[1].b).toEqual([A, C]);
    expect(decodeEntries(wire, "pack")).toEqual(entries);
  });

  it.each([
    ["a tree with bases", { t: "t", id: A, o: 0, l: 1, u: 1, b: [B] }],
    ["a blob that is its own base", { t: "d", id: A, o: 0, l: 1, u: 1, b: [A] }],
    ["no bases", { t: "d", id: A, o: 0, l: 1, u: 1, b: [] }],
    [
      "five bases",
      { t: "d", id: A, o: 0, l: 1, u: 1, b: [B, C, "d".repeat(64), "e".repeat(64), "f".repeat(64)] },
    ],
    ["a base twice", { t: "d", id: A, o: 0, l: 1, u: 1, b: [B, B] }],
    ["a base that is no id", { t: "d", id: A, o: 0, l: 1, u: 1, b: ["xyz"] }],
  ])("refuses %s", (_, wire) => {
    expect(() => decodeEntries([wire], "pack 1")).toThrow(/pack 1: malformed blob entry/);
  });
});
