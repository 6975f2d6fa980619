import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { SessionRegistry } from "../session-registry.js";
import { IN_FLIGHT_STATES } from "./dispatcher.js";

/**
 * How long after a job's deadline the controller waits for the agent's own
 * report (an agent abandons a job at its deadline and says so) before it
 * gives up on a host that is not connected.
 */
export const OVERDUE_GRACE_MS = 5 * 60_000;

/**
 * Fails jobs sent to an agent that has been away since past their deadline:
 * without this they would hold their host's and repository's concurrency
 * slots for ever. A result the agent sends later still records its run.
 */
export async function failOverdueJobs(
  db: Catalog,
  sessions: SessionRegistry,
  log: Logger,
  now: Date,
): Promise<number> {
  const inFlight = await db.job.findMany({
    where: { state: { in: [...IN_FLIGHT_STATES] }, dispatchedAt: { not: null } },
    select: { id: true, hostId: true, dispatchedAt: true, params: true },
  });
  const overdue = inFlight.filter((job) => {
    const timeoutMs = (job.params as { timeoutMs?: unknown } | null)?.timeoutMs;
    if (typeof timeoutMs !== "number" || !job.dispatchedAt || sessions.get(job.hostId)) return false;
    return job.dispatchedAt.getTime() + timeoutMs + OVERDUE_GRACE_MS < now.getTime();
  });
  for (const job of overdue) {
    const { count } = await db.job.updateMany({
      where: { id: job.id, state: { in: [...IN_FLIGHT_STATES] } },
      data: {
        state: "failed",
        finishedAt: now,
        reason:
          "deadline_exceeded: no result from the agent by the job's deadline, and the host has been offline since; " +
          "a result it sends later is still recorded",
      },
    });
    if (count > 0)
      log.warn("job failed: its host went away past the deadline", { jobId: job.id, hostId: job.hostId });
  }
  return overdue.length;
}
