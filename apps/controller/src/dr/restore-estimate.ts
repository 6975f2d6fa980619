// How long the restore will take: from the host's past drills (its own and
// fleet drills of its points) and restores when there are some, else from the
// size of what is restored.
import type { Catalog } from "@pwdr/catalog";
import type { RestoreEstimate } from "./plan-types.js";

/** Past runs averaged; older ones say little about today's data and hardware. */
const HISTORY_RUNS = 5;
/** A cautious restore rate for a small board writing to an SD card or SSD. */
export const FALLBACK_BYTES_PER_SECOND = 50 * 1024 * 1024;
/** Stopping, starting and checking services, on top of moving the bytes. */
const FIXED_OVERHEAD_MS = 60_000;

function restoreMsOf(details: unknown): number | undefined {
  const value = (details as { restoreMs?: unknown } | null)?.restoreMs;
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * The host's own drills and restores, and fleet drills of its points on other
 * agents (their drill step's output), newest first.
 */
async function pastRestores(db: Catalog, hostId: string): Promise<{ at: Date; details: unknown }[]> {
  const [own, fleet] = await Promise.all([
    db.jobRun.findMany({
      where: { hostId, state: "succeeded", job: { kind: { in: ["drill", "restore"] } } },
      orderBy: { startedAt: "desc" },
      take: HISTORY_RUNS * 4,
      select: { startedAt: true, details: true },
    }),
    db.drStep.findMany({
      where: { action: "drill", state: "succeeded", run: { kind: "drill", failedHostId: hostId } },
      orderBy: { finishedAt: "desc" },
      take: HISTORY_RUNS,
      select: { finishedAt: true, output: true },
    }),
  ]);
  return [
    ...own.map((r) => ({ at: r.startedAt, details: r.details })),
    ...fleet.map((s) => ({
      at: s.finishedAt ?? new Date(0),
      details: (s.output as { details?: unknown } | null)?.details,
    })),
  ].sort((a, b) => b.at.getTime() - a.at.getTime());
}

export async function estimateRestore(
  db: Catalog,
  hostId: string,
  totalBytes: number,
): Promise<RestoreEstimate> {
  const times = (await pastRestores(db, hostId))
    .flatMap((r) => restoreMsOf(r.details) ?? [])
    .slice(0, HISTORY_RUNS);
  if (times.length > 0) {
    const mean = Math.round(times.reduce((a, b) => a + b, 0) / times.length);
    return {
      ms: mean + FIXED_OVERHEAD_MS,
      basis: "history",
      note: `mean restore time of the host's last ${times.length} drill/restore run(s) (${times.join(", ")} ms) plus ${FIXED_OVERHEAD_MS / 1000} s for services`,
    };
  }
  return {
    ms: Math.round((totalBytes / FALLBACK_BYTES_PER_SECOND) * 1000) + FIXED_OVERHEAD_MS,
    basis: "size",
    note: `no past drill or restore of this host: estimated from the size at ${FALLBACK_BYTES_PER_SECOND / 1024 / 1024} MiB/s plus ${FIXED_OVERHEAD_MS / 1000} s for services; run a drill for a better figure`,
  };
}
