// Sending due jobs to their hosts' sessions, within windows and limits.
import type { Catalog, Job } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { SessionRegistry } from "../session-registry.js";
import { runsOnController } from "./controller-jobs.js";
import { type ConcurrencyLimits, DispatchLoad } from "./dispatch-load.js";
import { type FleetHost, loadFleet } from "./fleet-view.js";
import { jobMessage } from "./job-message.js";
import { windowCloseAfter, windowContains } from "./slots.js";

/** Due jobs looked at per pass, oldest first; the rest wait for the next pass. */
const BATCH = 500;
export const IN_FLIGHT_STATES = ["dispatched", "running"];

export interface DispatcherDeps {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
  limits: ConcurrencyLimits;
  /** Starts a job the controller runs itself (claimed: state running, attempt counted). */
  runOnController(job: Job, attempt: number): void;
}

function missedReason(job: Job, entry: FleetHost, now: Date): string | undefined {
  const window = entry.policy?.scheduling.window;
  if (!job.schedule || !window) return undefined;
  const close = windowCloseAfter(window, job.scheduledFor);
  if (now < close) return undefined;
  return `its window ${window.start}-${window.end} closed at ${close.toISOString()} before it could be dispatched`;
}

function outsideWindow(job: Job, entry: FleetHost, now: Date): boolean {
  const window = entry.policy?.scheduling.window;
  return Boolean(job.schedule && window && !windowContains(window, now));
}

async function markMissed(deps: DispatcherDeps, job: Job, reason: string, now: Date): Promise<void> {
  const { count } = await deps.db.job.updateMany({
    where: { id: job.id, state: "pending" },
    data: { state: "missed", reason, finishedAt: now },
  });
  if (count > 0)
    deps.log.warn("scheduled job missed its window", { jobId: job.id, hostId: job.hostId, reason });
}

/** pending -> `state` only if nobody else moved it first (another pass, another controller). */
async function claim(db: Catalog, job: Job, state: "dispatched" | "running", now: Date): Promise<boolean> {
  const { count } = await db.job.updateMany({
    where: { id: job.id, state: "pending", attempt: job.attempt },
    data: { state, attempt: job.attempt + 1, dispatchedAt: now },
  });
  return count === 1;
}

async function unclaim(db: Catalog, job: Job): Promise<void> {
  await db.job.updateMany({
    where: { id: job.id, state: "dispatched", attempt: job.attempt + 1 },
    data: { state: "pending", attempt: job.attempt, dispatchedAt: null },
  });
}

async function inFlight(db: Catalog): Promise<{ hostId: string }[]> {
  return db.job.findMany({ where: { state: { in: IN_FLIGHT_STATES } }, select: { hostId: true } });
}

/** Starts or sends one due job if nothing stands in its way; true when it went. */
async function dispatchOne(deps: DispatcherDeps, job: Job, entry: FleetHost, load: DispatchLoad, now: Date) {
  const reason = missedReason(job, entry, now);
  if (reason) {
    await markMissed(deps, job, reason, now);
    return false;
  }
  if (outsideWindow(job, entry, now) || load.blocker(entry)) return false;
  if (runsOnController(job, entry)) {
    if (!(await claim(deps.db, job, "running", now))) return false;
    load.add(entry);
    deps.runOnController(job, job.attempt + 1);
    return true;
  }
  if (!deps.sessions.get(job.hostId)) return false;
  if (!(await claim(deps.db, job, "dispatched", now))) return false;
  load.add(entry);
  if (deps.sessions.sendJob(job.hostId, jobMessage(job, entry.repositoryName, now))) return true;
  // The stream ended between the check and the write: the job waits for the next session.
  await unclaim(deps.db, job);
  return false;
}

/** One pass over the due jobs; returns how many were sent or started. */
export async function dispatchDue(deps: DispatcherDeps, now: Date): Promise<number> {
  const due = await deps.db.job.findMany({
    where: { state: "pending", scheduledFor: { lte: now } },
    orderBy: [{ scheduledFor: "asc" }, { id: "asc" }],
    take: BATCH,
  });
  if (due.length === 0) return 0;
  const busy = await inFlight(deps.db);
  const hostIds = [...new Set([...due.map((j) => j.hostId), ...busy.map((j) => j.hostId)])];
  const fleet = await loadFleet(deps.db, { hostIds });
  const load = new DispatchLoad(deps.limits);
  for (const { hostId } of busy) {
    const entry = fleet.hosts.get(hostId);
    if (entry) load.add(entry);
  }
  let sent = 0;
  for (const job of due) {
    const entry = fleet.hosts.get(job.hostId);
    // A decommissioned host's jobs stay pending: nothing runs them, nothing is lost.
    if (entry && (await dispatchOne(deps, job, entry, load, now))) sent++;
  }
  return sent;
}
