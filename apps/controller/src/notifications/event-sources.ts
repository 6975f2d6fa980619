// Turns what the job results, the RPO check and the DR orchestrator report
// into controller events. Each reports an occurrence once (a result once per
// run, an RPO flag once per change, a DR run once at start and at its end).
import type { DrRunChange } from "../dr/run-advance.js";
import type { RecordedRun } from "../jobs/job-results.js";
import type { RpoChange } from "../scheduling/rpo.js";
import type { DrRunEvent, HostRef, JobEvent, RpoEvent } from "./controller-events.js";

/** A run that failed or was partial for good (not one going back to pending for a retry). */
export function jobEvent(recorded: RecordedRun, now = new Date()): JobEvent | undefined {
  const { host, job, run } = recorded;
  if (recorded.requeued || (run.state !== "failed" && run.state !== "partial")) return undefined;
  const type = run.state === "failed" ? "job.failed" : "job.partial";
  return {
    type,
    id: `${type}/${run.id}`,
    at: run.finishedAt ?? now,
    host: { id: host.id, name: host.name },
    job: { id: job.id, kind: job.kind, attempt: job.attempt, createdBy: job.createdBy },
    runId: run.id,
    error:
      run.errorCode || run.errorMessage
        ? { code: run.errorCode ?? "", message: run.errorMessage ?? "" }
        : null,
  };
}

export function rpoEvent(change: RpoChange, now = new Date()): RpoEvent {
  const { host, breachedSince } = change;
  const type = breachedSince ? "rpo.breached" : "rpo.cleared";
  return {
    type,
    id: `${type}/${host.id}/${(breachedSince ?? now).toISOString()}`,
    at: now,
    host: { id: host.id, name: host.name },
    rpo: change.rpo,
    lastBackupAt: change.lastBackupAt,
    breachedSince,
  };
}

function hostRef(value: unknown): HostRef[] {
  const v = value as { id?: unknown; name?: unknown } | null;
  return v && typeof v.id === "string" && typeof v.name === "string" ? [{ id: v.id, name: v.name }] : [];
}

/** The hosts a plan names: the failed and replacement host of a restore, the hosts of a multi-host plan. */
function planHosts(plan: unknown): HostRef[] {
  const p = (plan ?? {}) as {
    failedHost?: unknown;
    replacementHost?: unknown;
    host?: unknown;
    target?: unknown;
    hosts?: unknown;
  };
  const listed = Array.isArray(p.hosts) ? p.hosts.flatMap(hostRef) : [];
  // A host restore names failed and replacement hosts, a fleet drill the drilled host and its target.
  return [
    ...hostRef(p.failedHost),
    ...hostRef(p.replacementHost),
    ...hostRef(p.host),
    ...hostRef(p.target),
    ...listed,
  ];
}

export function drEvent(change: DrRunChange, now = new Date()): DrRunEvent {
  const { run } = change;
  const type = change.phase === "started" ? "dr.run.started" : "dr.run.finished";
  return {
    type,
    id: `${type}/${run.id}`,
    at: (change.phase === "started" ? run.startedAt : run.finishedAt) ?? now,
    run: {
      id: run.id,
      kind: run.kind,
      state: run.state,
      createdBy: run.createdBy,
      reason: run.reason,
      rtoMs: change.phase === "finished" ? run.rtoMs : null,
      rpoMs: run.rpoMs,
    },
    hosts: planHosts(run.plan),
  };
}
