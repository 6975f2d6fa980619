import { describe, expect, it } from "vitest";
import { jitterSeconds, latestSlot, windowCloseAfter, windowContains } from "./slots.js";

// Local times: cron and windows use the controller's time zone.
const at = (h: number, m: number, s = 0, ms = 0, day = 10) => new Date(2026, 10, day, h, m, s, ms);

describe("latestSlot", () => {
  it("is the latest fire time at or before now", () => {
    expect(latestSlot("*/5 * * * *", at(0, 10))).toEqual(at(0, 10));
    expect(latestSlot("*/5 * * * *", at(0, 10, 0, 500))).toEqual(at(0, 10));
    expect(latestSlot("*/5 * * * *", at(0, 9, 59, 999))).toEqual(at(0, 5));
    expect(latestSlot("15 2 * * *", at(1, 0))).toEqual(at(2, 15, 0, 0, 9));
    expect(latestSlot("* * * * * *", at(3, 0, 7, 400))).toEqual(at(3, 0, 7));
  });
});

describe("jitterSeconds", () => {
  it("depends only on host and schedule, stays below the jitter and spreads hosts", () => {
    const first = jitterSeconds("host-a", "backup", 3_600_000);
    expect(jitterSeconds("host-a", "backup", 3_600_000)).toBe(first);
    const spread = new Set(
      Array.from({ length: 50 }, (_, i) => jitterSeconds(`host-${i}`, "backup", 3_600_000)),
    );
    expect(spread.size).toBeGreaterThan(40);
    for (const j of spread) expect(j).toBeGreaterThanOrEqual(0);
    for (const j of spread) expect(j).toBeLessThan(3_600);
    expect(jitterSeconds("host-a", "backup", 0)).toBe(0);
  });
});

describe("windows", () => {
  const night = { start: "22:00", end: "04:00" };
  const day = { start: "09:00", end: "17:30" };

  it("contains times between start (inclusive) and end (exclusive), wrapping midnight", () => {
    expect([at(22, 0), at(23, 59), at(0, 0), at(3, 59)].map((t) => windowContains(night, t))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect([at(4, 0), at(12, 0), at(21, 59)].map((t) => windowContains(night, t))).toEqual([
      false,
      false,
      false,
    ]);
    expect([at(9, 0), at(17, 29), at(17, 30), at(8, 59)].map((t) => windowContains(day, t))).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it("closes at the first window end after the job was due", () => {
    expect(windowCloseAfter(night, at(23, 0))).toEqual(at(4, 0, 0, 0, 11));
    expect(windowCloseAfter(night, at(1, 0))).toEqual(at(4, 0));
    // Due outside the window: the next window opens at 22:00 and closes the next morning.
    expect(windowCloseAfter(night, at(12, 0))).toEqual(at(4, 0, 0, 0, 11));
    expect(windowCloseAfter(day, at(18, 0))).toEqual(at(17, 30, 0, 0, 11));
  });
});
