/** The runbook's order: services down, database, Redis, configuration, data, services up, health. */
export const STEP_ORDER = [
  "stop-services",
  "restore-postgres",
  "restore-redis",
  "restore-config",
  "restore-files",
  "start-services",
  "verify-health",
] as const;

export type StepKind = (typeof STEP_ORDER)[number];

/** One step of a host restore as planned: what it will touch, shown before anything runs. */
export interface PlannedStep {
  kind: StepKind;
  /** The source restored by this step. */
  source?: string;
  description: string;
  /** Databases, directories, files and services this step changes. */
  touches: string[];
  /** Bytes the step restores, from the recovery point. */
  bytes?: number;
}

export interface StepReport extends PlannedStep {
  status: "pending" | "running" | "done" | "failed" | "skipped";
  durationMs?: number;
  /** What the step measured or verified (row counts, key counts, files, health attempts). */
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}
