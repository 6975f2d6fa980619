import { afterEach, describe, expect, it, vi } from "vitest";
import { applyPolicy, type Dated } from "./apply-policy.js";
import { formatDuration } from "./format-duration.js";
import type { RetentionPolicy } from "./retention-policy.js";
import { bucketOf, isoWeek } from "./time-buckets.js";

let counter = 0;
function snap(time: string, tags: string[] = [], id?: string): Dated {
  counter++;
  return { id: id ?? `${String(counter).padStart(4, "0")}-${time}`, time, tags };
}

/** The times of the kept snapshots, newest first. */
function kept(snapshots: Dated[], policy: RetentionPolicy): string[] {
  return applyPolicy(snapshots, policy)
    .filter((d) => d.keep)
    .map((d) => d.snapshot.time);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

afterEach(() => {
  vi.useRealTimers();
});

describe("retention policy", () => {
  it("refuses an empty or malformed policy instead of forgetting everything", () => {
    const s = [snap("2024-01-01T00:00:00Z")];
    for (const bad of [{}, { keepLast: 0, keepDaily: 0, keepTags: [] }, { keepWithin: 0 }]) {
      expect(() => applyPolicy(s, bad)).toThrow(/empty policy/);
    }
    for (const bad of [
      { keepLast: -1 },
      { keepDaily: 1.5 },
      { keepWithin: Number.NaN },
      { keepWithin: -5 },
    ]) {
      expect(() => applyPolicy(s, bad)).toThrow(expect.objectContaining({ code: "invalid_argument" }));
    }
  });

  it("keeps the last n snapshots", () => {
    const s = ["01", "02", "03", "04", "05"].map((d) => snap(`2024-01-${d}T12:00:00Z`));
    const decisions = applyPolicy(s, { keepLast: 3 });
    expect(decisions.map((d) => [d.snapshot.time.slice(8, 10), d.keep, d.reasons])).toEqual([
      ["05", true, ["last snapshot"]],
      ["04", true, ["last snapshot"]],
      ["03", true, ["last snapshot"]],
      ["02", false, []],
      ["01", false, []],
    ]);
    expect(kept(s, { keepLast: 10 })).toHaveLength(5);
  });

  it("keeps the newest snapshot of each of the last n days that have snapshots", () => {
    const s = [
      snap("2024-01-01T08:00:00Z"),
      snap("2024-01-01T20:00:00Z"),
      snap("2024-01-02T12:00:00Z"),
      snap("2024-01-04T09:00:00Z"),
      snap("2024-01-05T01:00:00Z"),
      snap("2024-01-05T23:00:00Z"),
    ];
    expect(kept(s, { keepDaily: 3 })).toEqual([
      "2024-01-05T23:00:00Z",
      "2024-01-04T09:00:00Z",
      "2024-01-02T12:00:00Z",
    ]);
    expect(applyPolicy(s, { keepDaily: 3 })[0]?.reasons).toEqual(["daily snapshot"]);
  });

  it("buckets hours, months and years by the calendar", () => {
    const s = [snap("2024-01-01T10:00:00Z"), snap("2024-01-01T10:59:59Z"), snap("2024-01-01T11:00:00Z")];
    expect(kept(s, { keepHourly: 5 })).toEqual(["2024-01-01T11:00:00Z", "2024-01-01T10:59:59Z"]);
    const m = [
      snap("2022-12-31T23:59:59Z"),
      snap("2023-01-01T00:00:00Z"),
      snap("2023-01-31T00:00:00Z"),
      snap("2023-02-01T00:00:00Z"),
    ];
    expect(kept(m, { keepMonthly: 2 })).toEqual(["2023-02-01T00:00:00Z", "2023-01-31T00:00:00Z"]);
    expect(kept(m, { keepYearly: 5 })).toEqual(["2023-02-01T00:00:00Z", "2022-12-31T23:59:59Z"]);
    const both = applyPolicy(m, { keepMonthly: 1, keepYearly: 2 });
    expect(both.map((d) => d.reasons)).toEqual([
      ["monthly snapshot", "yearly snapshot"],
      [],
      [],
      ["yearly snapshot"],
    ]);
  });

  it("uses ISO weeks, which start on Monday and may straddle a new year", () => {
    expect(isoWeek(new Date("2021-01-03T12:00:00Z"))).toBe("2020-W53");
    expect(isoWeek(new Date("2021-01-04T00:00:00Z"))).toBe("2021-W01");
    expect(isoWeek(new Date("2019-12-30T00:00:00Z"))).toBe("2020-W01");
    expect(isoWeek(new Date("2024-12-30T00:00:00Z"))).toBe("2025-W01");
    expect(isoWeek(new Date("2016-01-03T00:00:00Z"))).toBe("2015-W53");
    expect(isoWeek(new Date("2024-06-16T23:59:59Z"))).toBe("2024-W24");
    expect(isoWeek(new Date("2024-06-17T00:00:00Z"))).toBe("2024-W25");
    const s = [
      snap("2021-01-04T08:00:00Z"),
      snap("2021-01-03T08:00:00Z"),
      snap("2020-12-28T08:00:00Z"),
      snap("2020-12-27T08:00:00Z"),
    ];
    expect(kept(s, { keepWeekly: 2 })).toEqual(["2021-01-04T08:00:00Z", "2021-01-03T08:00:00Z"]);
    expect(kept(s, { keepWeekly: 3 })).toEqual([
      "2021-01-04T08:00:00Z",
      "2021-01-03T08:00:00Z",
      "2020-12-27T08:00:00Z",
    ]);
  });

  it("buckets by UTC whatever offset the snapshot time was written with", () => {
    // 23:30 at UTC-5 on the 10th is 04:30 UTC on the 11th: the same day as 01:00 UTC on the 11th.
    const s = [snap("2024-03-10T23:30:00-05:00"), snap("2024-03-11T01:00:00Z"), snap("2024-03-10T22:00:00Z")];
    expect(bucketOf("daily", new Date("2024-03-10T23:30:00-05:00"))).toBe("2024-03-11");
    expect(kept(s, { keepDaily: 2 })).toEqual(["2024-03-10T23:30:00-05:00", "2024-03-10T22:00:00Z"]);
  });

  it("measures keepWithin back from the group's newest snapshot, not from now", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const newest = Date.parse("2024-05-10T12:00:00Z");
    const s = [0, 1, 2, 3].map((days) => snap(new Date(newest - days * DAY).toISOString()));
    const s2 = [...s, snap(new Date(newest - 2 * DAY + 1).toISOString())];
    for (const now of ["2024-05-10T12:00:00Z", "2025-05-10T12:00:00Z"]) {
      vi.setSystemTime(new Date(now));
      // Exactly 2 days older than the newest is outside "within 2d"; a millisecond younger is inside.
      expect(kept(s2, { keepWithin: 2 * DAY })).toEqual([
        "2024-05-10T12:00:00.000Z",
        "2024-05-09T12:00:00.000Z",
        "2024-05-08T12:00:00.001Z",
      ]);
    }
    expect(applyPolicy(s, { keepWithin: 2 * DAY })[0]?.reasons).toEqual(["within 2d"]);
  });

  it("keeps tagged snapshots and lists every reason a snapshot is kept", () => {
    const s = [
      snap("2024-01-03T00:00:00Z", ["keep", "monthly-report"]),
      snap("2024-01-02T00:00:00Z", ["other"]),
      snap("2024-01-01T00:00:00Z", ["keep"]),
    ];
    const decisions = applyPolicy(s, {
      keepLast: 1,
      keepDaily: 1,
      keepWithin: 36 * HOUR,
      keepTags: ["keep", "monthly-report"],
    });
    expect(decisions.map((d) => d.reasons)).toEqual([
      ["last snapshot", "daily snapshot", "within 1d12h", "tagged keep", "tagged monthly-report"],
      ["within 1d12h"],
      ["tagged keep"],
    ]);
  });

  it("breaks ties between equal times by id, whatever the input order", () => {
    const a = snap("2024-01-01T00:00:00Z", [], "aaaa");
    const b = snap("2024-01-01T00:00:00Z", [], "bbbb");
    for (const input of [
      [a, b],
      [b, a],
    ]) {
      const decisions = applyPolicy(input, { keepDaily: 1 });
      expect(decisions.map((d) => [d.snapshot.id, d.keep])).toEqual([
        ["aaaa", true],
        ["bbbb", false],
      ]);
    }
  });

  it("keeps a snapshot whose time cannot be read, and dates the group by the others", () => {
    const s = [snap("not a time"), snap("2024-01-02T00:00:00Z"), snap("2024-01-01T00:00:00Z")];
    const decisions = applyPolicy(s, { keepLast: 1 });
    expect(decisions.map((d) => [d.snapshot.time, d.keep, d.reasons])).toEqual([
      ["2024-01-02T00:00:00Z", true, ["last snapshot"]],
      ["2024-01-01T00:00:00Z", false, []],
      ["not a time", true, ["time cannot be read"]],
    ]);
  });

  it("returns nothing for no snapshots", () => {
    expect(applyPolicy([], { keepLast: 1 })).toEqual([]);
  });

  it("formats durations compactly", () => {
    expect(formatDuration(7 * DAY)).toBe("7d");
    expect(formatDuration(90 * 60_000)).toBe("1h30m");
    expect(formatDuration(DAY + 45_000)).toBe("1d45s");
    expect(formatDuration(250)).toBe("250ms");
  });
});
