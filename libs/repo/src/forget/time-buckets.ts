/** The calendar periods a retention policy keeps one snapshot of. */
export type BucketRule = "hourly" | "daily" | "weekly" | "monthly" | "yearly";

const DAY_MS = 86_400_000;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/**
 * The ISO 8601 week of a UTC date: weeks start on Monday, and week 1 is the
 * one holding the year's first Thursday, so 2021-01-03 is in 2020-W53.
 */
export function isoWeek(t: Date): string {
  const day = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
  // The Thursday of the same week decides the week-based year.
  day.setUTCDate(day.getUTCDate() + 3 - ((day.getUTCDay() + 6) % 7));
  const year = day.getUTCFullYear();
  const week = 1 + Math.floor((day.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7);
  return `${year}-W${pad(week)}`;
}

/**
 * The period a time falls in, in UTC: snapshots from hosts in several time
 * zones then share one calendar, and a daylight-saving change never merges
 * or splits a day. Equal strings mean the same period.
 */
export function bucketOf(rule: BucketRule, t: Date): string {
  const y = pad(t.getUTCFullYear(), 4);
  const m = pad(t.getUTCMonth() + 1);
  const d = pad(t.getUTCDate());
  switch (rule) {
    case "hourly":
      return `${y}-${m}-${d}T${pad(t.getUTCHours())}`;
    case "daily":
      return `${y}-${m}-${d}`;
    case "weekly":
      return isoWeek(t);
    case "monthly":
      return `${y}-${m}`;
    case "yearly":
      return y;
  }
}
