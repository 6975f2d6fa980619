import { describe, expect, it } from "vitest";
import { forEachLimited, forEachWithFollowUps } from "./pg-parallel.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe("forEachWithFollowUps", () => {
  it("runs follow-ups before the items still waiting, never more than the limit at once", async () => {
    const order: string[] = [];
    let running = 0;
    let most = 0;
    await forEachWithFollowUps(["big", "small", "other"], 2, async (item) => {
      running++;
      most = Math.max(most, running);
      order.push(item);
      await tick();
      running--;
      return item === "big" || item === "small" ? [`${item}:indexes`] : [];
    });
    expect(most).toBe(2);
    expect(order.slice(0, 2)).toEqual(["big", "small"]);
    expect(order.indexOf("big:indexes")).toBeLessThan(order.indexOf("other"));
    expect(order).toHaveLength(5);
  });

  it("starts nothing after a failure and throws it once the running items end", async () => {
    const started: number[] = [];
    let ended = 0;
    const run = forEachLimited([1, 2, 3, 4], 2, async (n) => {
      started.push(n);
      await tick();
      if (n === 1) throw new Error("load of 1 failed");
      await tick();
      ended++;
    });
    await expect(run).rejects.toThrow("load of 1 failed");
    expect(started).toEqual([1, 2]);
    expect(ended).toBe(1);
  });

  it("resolves at once for no items", async () => {
    await expect(forEachLimited([], 2, async () => {})).resolves.toBeUndefined();
  });
});
