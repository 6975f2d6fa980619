import type { RecoveryPoint } from "@pwdr/host";

/** A job's error as reported to the controller (JobError): a code from docs/errors.md. */
export interface JobFailure {
  code: string;
  message: string;
  retryable: boolean;
}

/** What running one job produced, before it becomes a JobResult. */
export interface JobOutcome {
  state: "succeeded" | "partial" | "failed" | "cancelled";
  error?: JobFailure;
  bytesRead?: number;
  bytesAdded?: number;
  recoveryPoint?: RecoveryPoint;
  /** Which repository a backup wrote to (SourceOutcome.repository). */
  repository?: string;
  /** Job-specific results (JobResult.details_json); never secrets. */
  details: Record<string, unknown>;
}

/** Progress of a running job, as JobProgress carries it. */
export interface JobProgressUpdate {
  phase: string;
  bytesDone: number;
  bytesTotal?: number;
  itemsDone?: number;
  itemsTotal?: number;
  item?: string;
}

export function failed(code: string, message: string, retryable = false): JobOutcome {
  return { state: "failed", error: { code, message, retryable }, details: {} };
}

/** Why a run was stopped from outside: the abort reasons the queue gives a run's signal. */
export class RunStopped extends Error {
  constructor(
    readonly outcome: JobOutcome,
    message: string,
  ) {
    super(message);
    this.name = "RunStopped";
  }
}
