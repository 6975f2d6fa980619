import { describe, expect, it } from "vitest";
import { filesToLoad, parseAofManifest } from "./aof-manifest.js";
import { keyspaceCounts, parseInfo } from "./info.js";
import { endFrame, keyFrame, LOGICAL_MAGIC, readLogicalFrames, selectFrame } from "./logical-format.js";
import { compareVersions, maxRdbFormat, rdbFormatOf } from "./version.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** Splits bytes into 3-byte chunks, so frames straddle chunk boundaries. */
async function* chunked(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
}

describe("Redis formats", () => {
  it("parses a multi-part AOF manifest and lists base and incremental files in order", () => {
    const text =
      "file appendonly.aof.2.base.rdb seq 2 type b\n" +
      'file "odd name.aof" seq 3 type h\n' +
      "file appendonly.aof.5.incr.aof seq 5 type i\n";
    expect(filesToLoad(parseAofManifest(text))).toEqual([
      "appendonly.aof.2.base.rdb",
      "appendonly.aof.5.incr.aof",
    ]);
    expect(() => parseAofManifest("file ../../etc/passwd seq 1 type b\n")).toThrow(/not a plain file name/);
    expect(() => parseAofManifest("garbage\n")).toThrow(/unreadable AOF manifest line/);
  });

  it("round-trips the logical format and detects truncation", async () => {
    const bytes = Buffer.concat([
      LOGICAL_MAGIC,
      selectFrame(3),
      keyFrame(Buffer.from([0, 255]), 1_700_000_000_000, Buffer.from("payload")),
      keyFrame(Buffer.from("k"), 0, Buffer.alloc(0)),
      endFrame(2),
    ]);
    expect(await collect(readLogicalFrames(chunked(bytes)))).toEqual([
      { kind: "select", db: 3 },
      {
        kind: "key",
        key: Buffer.from([0, 255]),
        expireAt: 1_700_000_000_000,
        payload: Buffer.from("payload"),
      },
      { kind: "key", key: Buffer.from("k"), expireAt: 0, payload: Buffer.alloc(0) },
      { kind: "end", keys: 2 },
    ]);
    await expect(collect(readLogicalFrames(chunked(bytes.subarray(0, bytes.length - 12))))).rejects.toThrow(
      /truncated/,
    );
  });

  it("compares versions and knows RDB formats", () => {
    expect(compareVersions("7.0.15", "7.2.0")).toBe(-1);
    expect(compareVersions("7.2", "7.2.0")).toBe(0);
    expect(maxRdbFormat("7.0.15")).toBe(10);
    expect(maxRdbFormat("7.2.4")).toBe(11);
    expect(maxRdbFormat("9.0.0")).toBeUndefined();
    expect(rdbFormatOf(Buffer.from("REDIS0011\xfa", "latin1"))).toBe(11);
    expect(rdbFormatOf(Buffer.from("nope"))).toBeUndefined();
  });

  it("reads key counts from INFO keyspace", () => {
    const info = parseInfo(
      "# Keyspace\r\ndb0:keys=5,expires=1,avg_ttl=9\r\ndb3:keys=2,expires=0,avg_ttl=0\r\n",
    );
    expect(keyspaceCounts(info)).toEqual({
      counts: { "redis:db0": 5, "redis:db3": 2 },
      expires: { "redis:db0": 1, "redis:db3": 0 },
    });
  });
});
