import type { Job, JobKind, JobRun, JobRunState, JobState } from "@pwdr/catalog";
import type { RunProgress } from "../../jobs/live-progress.js";
import { isoOrNull } from "../schemas/common.js";

type JsonObject = Record<string, unknown>;

export function toJobView(job: Job) {
  return {
    id: job.id,
    kind: job.kind as JobKind,
    hostId: job.hostId,
    state: job.state as JobState,
    reason: job.reason,
    createdBy: job.createdBy,
    schedule: job.schedule,
    scheduledFor: job.scheduledFor.toISOString(),
    dispatchedAt: isoOrNull(job.dispatchedAt),
    finishedAt: isoOrNull(job.finishedAt),
    attempt: job.attempt,
    idempotencyKey: job.idempotencyKey,
    params: (job.params ?? {}) as JsonObject,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  };
}

export function toRunView(run: JobRun & { recoveryPoint: { id: string } | null }) {
  return {
    id: run.id,
    runId: run.idempotencyKey,
    state: run.state as JobRunState,
    locallyScheduled: run.locallyScheduled,
    phase: run.phase,
    progress: (run.progress as JsonObject | null) ?? null,
    details: (run.details as JsonObject | null) ?? null,
    startedAt: run.startedAt.toISOString(),
    finishedAt: isoOrNull(run.finishedAt),
    bytesRead: Number(run.bytesRead),
    bytesAdded: Number(run.bytesAdded),
    errorCode: run.errorCode,
    errorMessage: run.errorMessage,
    recoveryPointId: run.recoveryPoint?.id ?? null,
  };
}

/** Live progress only while the job can still make any: a finished job's runs hold the final numbers. */
export function liveProgressOf(job: Job, progress: RunProgress | undefined): RunProgress | null {
  return progress && (job.state === "running" || job.state === "dispatched") ? progress : null;
}
