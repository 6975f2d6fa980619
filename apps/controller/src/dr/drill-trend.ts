// The RTO trend of a host's fleet drills: how long recovering its data took,
// drill after drill, and whether that is getting slower. Operators watch it
// to know their RTO before a disaster tells them.
import type { Catalog, DrRun } from "@pwdr/catalog";
import type { FleetDrillPlan } from "./plan-types.js";

/** Drills compared on each side of the trend: the latest ones against those before. */
const TREND_WINDOW = 3;
/** A change smaller than this share of the earlier median is noise, not a trend. */
const STEADY_BAND = 0.2;

export type TrendDirection = "faster" | "slower" | "steady" | "unknown";

export interface DrillRecord {
  id: string;
  state: string;
  mode: string;
  targetHost: { id: string; name: string } | null;
  recoveryPointId: string | null;
  scheduled: boolean;
  startedAt: Date | null;
  finishedAt: Date | null;
  rtoMs: number | null;
  rpoMs: number | null;
  reason: string | null;
}

export interface DrillTrend {
  drills: number;
  succeeded: number;
  failed: number;
  lastRtoMs: number | null;
  medianRtoMs: number | null;
  /** Median RTO of the latest drills against the ones before them. */
  recentMedianRtoMs: number | null;
  earlierMedianRtoMs: number | null;
  direction: TrendDirection;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
}

function directionOf(recent: number | null, earlier: number | null): TrendDirection {
  if (recent === null || earlier === null || earlier === 0) return "unknown";
  const change = (recent - earlier) / earlier;
  if (Math.abs(change) < STEADY_BAND) return "steady";
  return change > 0 ? "slower" : "faster";
}

/** The trend over finished drills, oldest first; only succeeded drills have an RTO worth comparing. */
export function drillTrend(records: readonly DrillRecord[]): DrillTrend {
  const finished = records.filter((r) => r.finishedAt !== null);
  const rtos = finished
    .filter((r) => r.state === "succeeded" && r.rtoMs !== null)
    .map((r) => r.rtoMs as number);
  const recent = rtos.slice(-TREND_WINDOW);
  const earlier = rtos.slice(-2 * TREND_WINDOW, -TREND_WINDOW);
  const recentMedian = median(recent);
  const earlierMedian = median(earlier);
  return {
    drills: finished.length,
    succeeded: finished.filter((r) => r.state === "succeeded").length,
    failed: finished.filter((r) => r.state === "failed").length,
    lastRtoMs: rtos.at(-1) ?? null,
    medianRtoMs: median(rtos),
    recentMedianRtoMs: recentMedian,
    earlierMedianRtoMs: earlierMedian,
    direction: directionOf(recentMedian, earlierMedian),
  };
}

export function drillRecordOf(run: DrRun): DrillRecord {
  const plan = run.plan as unknown as Partial<FleetDrillPlan>;
  return {
    id: run.id,
    state: run.state,
    mode: plan.mode ?? "sandbox",
    targetHost: plan.target ?? null,
    recoveryPointId: run.recoveryPointId,
    scheduled: run.slotKey !== null,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    rtoMs: run.rtoMs,
    rpoMs: run.rpoMs,
    reason: run.reason,
  };
}

/** A host's fleet drills, oldest first (at most `limit`, the newest), and their trend. */
export async function hostDrills(
  db: Catalog,
  hostId: string,
  limit: number,
): Promise<{ drills: DrillRecord[]; trend: DrillTrend }> {
  const runs = await db.drRun.findMany({
    where: { kind: "drill", failedHostId: hostId },
    orderBy: { createdAt: "desc" },
    take: limit,
  });
  const drills = runs.reverse().map(drillRecordOf);
  return { drills, trend: drillTrend(drills) };
}
