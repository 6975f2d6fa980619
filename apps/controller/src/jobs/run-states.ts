import type { SourceKind as CatalogSourceKind, JobRunState, RecoveryPointStatus } from "@pwdr/catalog";
import { JobState, SourceKind } from "@pwdr/protocol";

/** The final states a JobResult may report; RUNNING and UNSPECIFIED are not results. */
const FINAL_RUN_STATES: Partial<Record<JobState, JobRunState>> = {
  [JobState.SUCCEEDED]: "succeeded",
  [JobState.PARTIAL]: "partial",
  [JobState.FAILED]: "failed",
  [JobState.CANCELLED]: "cancelled",
};

export function finalRunState(state: JobState): JobRunState | undefined {
  return FINAL_RUN_STATES[state];
}

export function isFinal(state: string): boolean {
  return state !== "running" && state !== "pending" && state !== "dispatched";
}

const SOURCE_KINDS: Partial<Record<SourceKind, CatalogSourceKind>> = {
  [SourceKind.POSTGRES]: "postgres",
  [SourceKind.REDIS]: "redis",
  [SourceKind.CONFIG]: "config",
  [SourceKind.FILES]: "files",
};

export function catalogSourceKind(kind: SourceKind): CatalogSourceKind | undefined {
  return SOURCE_KINDS[kind];
}

/** complete: every source succeeded; failed: none did; partial otherwise. */
export function recoveryPointStatus(states: readonly JobState[]): RecoveryPointStatus {
  const ok = states.filter((s) => s === JobState.SUCCEEDED).length;
  if (ok === states.length) return "complete";
  return ok === 0 ? "failed" : "partial";
}
