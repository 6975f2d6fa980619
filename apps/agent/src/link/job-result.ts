import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { RecoveryPoint as HostRecoveryPoint, SourceOutcome as HostSourceOutcome } from "@pwdr/host";
import {
  type Job,
  type JobResult,
  JobResultSchema,
  JobState,
  type RecoveryPoint,
  RecoveryPointSchema,
  SourceKind,
  type SourceOutcome,
  SourceOutcomeSchema,
} from "@pwdr/protocol";
import { retryableCode } from "./job-errors.js";
import { kindOf } from "./job-kind.js";
import type { JobOutcome } from "./job-outcome.js";

const STATES: Record<JobOutcome["state"], JobState> = {
  succeeded: JobState.SUCCEEDED,
  partial: JobState.PARTIAL,
  failed: JobState.FAILED,
  cancelled: JobState.CANCELLED,
};

const SOURCE_KINDS: Record<HostSourceOutcome["kind"], SourceKind> = {
  postgres: SourceKind.POSTGRES,
  redis: SourceKind.REDIS,
  config: SourceKind.CONFIG,
  files: SourceKind.FILES,
};

export interface RunFacts {
  job: Job;
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  locallyScheduled: boolean;
}

/** The JobResult of one run: what the outbox keeps and the controller records once per run_id. */
export function jobResultOf(run: RunFacts, outcome: JobOutcome): JobResult {
  return create(JobResultSchema, {
    jobId: run.job.jobId,
    runId: run.runId,
    state: STATES[outcome.state],
    startedAt: timestampFromDate(run.startedAt),
    finishedAt: timestampFromDate(run.finishedAt),
    bytesRead: BigInt(outcome.bytesRead ?? 0),
    bytesAdded: BigInt(outcome.bytesAdded ?? 0),
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.recoveryPoint
      ? { recoveryPoint: recoveryPointOf(outcome.recoveryPoint, outcome.repository ?? "") }
      : {}),
    locallyScheduled: run.locallyScheduled,
    slotKey: run.job.slotKey,
    kind: kindOf(run.job) ?? "",
    detailsJson: JSON.stringify(outcome.details),
  });
}

export function recoveryPointOf(point: HostRecoveryPoint, repository: string): RecoveryPoint {
  const versions: Record<string, string> = {};
  for (const s of point.sources) if (s.version) versions[s.name] = s.version;
  if (point.appVersion) versions.app = point.appVersion;
  return create(RecoveryPointSchema, {
    recoveryPointId: point.id,
    time: timestampFromDate(new Date(point.startedAt)),
    sources: point.sources.map((s) => sourceOutcomeOf(s, repository)),
    versions,
  });
}

function sourceOutcomeOf(s: HostSourceOutcome, repository: string): SourceOutcome {
  const counts: Record<string, bigint> = {};
  for (const [key, n] of Object.entries(s.counts ?? {})) counts[key] = BigInt(n);
  return create(SourceOutcomeSchema, {
    source: s.name,
    kind: SOURCE_KINDS[s.kind],
    state: s.status === "ok" ? JobState.SUCCEEDED : JobState.FAILED,
    repository,
    snapshotId: s.snapshotId ?? "",
    sizeBytes: BigInt(s.bytes ?? 0),
    addedBytes: BigInt(s.addedBytes ?? 0),
    fileCount: BigInt(s.files ?? 0),
    ...(s.error ? { error: { ...s.error, retryable: retryableCode(s.error.code) } } : {}),
    counts,
  });
}
