import { describe, expect, it } from "vitest";
import { seededBytes } from "../test-support/fixtures.js";
import { FastCdc } from "./fastcdc.js";

const params = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024, gearSeed: "11".repeat(32) };

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield Buffer.from(data.subarray(i, i + size));
}

async function chunksOf(cdc: FastCdc, data: Buffer, pieceSize: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of cdc.chunks(pieces(data, pieceSize))) out.push(c);
  return out;
}

function lengthsOfCuts(cdc: FastCdc, input: Buffer): number[] {
  const lengths: number[] = [];
  for (let pos = 0; pos < input.length; ) {
    const len = cdc.cut(input, pos, input.length);
    lengths.push(len);
    pos += len;
  }
  return lengths;
}

describe("FastCDC", () => {
  const data = seededBytes("cdc", 8 * 1024 * 1024);

  it("cuts the same boundaries however the stream is split, and the chunks rebuild the input", async () => {
    const cdc = new FastCdc(params);
    const a = await chunksOf(cdc, data, 1 << 20);
    const b = await chunksOf(cdc, data, 7919);
    expect(a.map((c) => c.length)).toEqual(b.map((c) => c.length));
    expect(Buffer.concat(a).equals(data)).toBe(true);
  });

  it("cuts where a cut over the whole input cuts, whatever the piece sizes", async () => {
    const cdc = new FastCdc(params);
    const whole = lengthsOfCuts(cdc, data);
    for (const pieceSize of [1, 4093, params.minSize, params.maxSize, params.maxSize + 1, 3 << 20]) {
      const input = pieceSize === 1 ? data.subarray(0, 600_000) : data;
      const expected = pieceSize === 1 ? lengthsOfCuts(cdc, input) : whole;
      expect((await chunksOf(cdc, input, pieceSize)).map((c) => c.length)).toEqual(expected);
    }
  });

  it("gives each chunk a buffer of its own, so it can be moved to a worker", async () => {
    for (const c of await chunksOf(new FastCdc(params), data, 1 << 20)) {
      expect(c.byteOffset).toBe(0);
      expect(c.buffer.byteLength).toBe(c.length);
    }
  });

  it("keeps chunk sizes within bounds and near the average", async () => {
    const sizes = (await chunksOf(new FastCdc(params), data, 1 << 20)).map((c) => c.length);
    for (const s of sizes.slice(0, -1)) {
      expect(s).toBeGreaterThanOrEqual(params.minSize);
      expect(s).toBeLessThanOrEqual(params.maxSize);
    }
    const mean = data.length / sizes.length;
    expect(mean).toBeGreaterThan(params.avgSize * 0.5);
    expect(mean).toBeLessThan(params.avgSize * 2);
  });

  it("realigns after an insertion, so most chunks are shared with the original", async () => {
    const cdc = new FastCdc(params);
    const edited = Buffer.concat([
      data.subarray(0, 3_000_000),
      Buffer.from("inserted bytes"),
      data.subarray(3_000_000),
    ]);
    const before = new Set((await chunksOf(cdc, data, 1 << 20)).map((c) => c.toString("base64")));
    const after = await chunksOf(cdc, edited, 1 << 20);
    const shared = after.filter((c) => before.has(c.toString("base64"))).length;
    expect(shared).toBeGreaterThanOrEqual(after.length - 3);
  });

  it("cuts differently under a different secret seed", async () => {
    const a = await chunksOf(new FastCdc(params), data, 1 << 20);
    const b = await chunksOf(new FastCdc({ ...params, gearSeed: "22".repeat(32) }), data, 1 << 20);
    expect(a.map((c) => c.length)).not.toEqual(b.map((c) => c.length));
  });

  it("refuses inconsistent sizes", () => {
    expect(() => new FastCdc({ ...params, minSize: params.avgSize })).toThrow(/0 < min < avg < max/);
  });
});
