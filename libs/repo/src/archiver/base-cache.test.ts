import { describe, expect, it } from "vitest";
import { BaseCache } from "./base-cache.js";

describe("BaseCache", () => {
  it("loads once, evicts the least recently used beyond its bytes, and keeps no failure", async () => {
    const evicted: number[] = [];
    const cache = new BaseCache<string>(10, (size) => evicted.push(size));
    let loads = 0;
    const load = (v: string) => () => {
      loads++;
      return Promise.resolve(v);
    };
    expect(await cache.get("a", 4, load("A"))).toBe("A");
    expect(await cache.get("b", 4, load("B"))).toBe("B");
    expect(await cache.get("a", 4, load("A2"))).toBe("A");
    expect(loads).toBe(2);
    // 12 bytes: "b", used least recently, goes.
    expect(await cache.get("c", 4, load("C"))).toBe("C");
    expect(evicted).toEqual([4]);
    expect(await cache.get("b", 4, load("B2"))).toBe("B2");
    // Larger than the whole limit: still kept, the others go.
    expect(await cache.get("d", 20, load("D"))).toBe("D");
    expect(await cache.get("d", 20, load("D2"))).toBe("D");

    await expect(cache.get("e", 1, () => Promise.reject(new Error("damaged")))).rejects.toThrow("damaged");
    await new Promise((r) => setImmediate(r));
    expect(await cache.get("e", 1, load("E"))).toBe("E");
  });
});
