import type { SourceDefinition } from "../definition/host-definition.js";

/** One thing a drill checked in the sandbox against what the backup recorded. */
export interface DrillAssertion {
  /** e.g. "rows of piwardrive.public.sessions", "keys in redis:db0", "content of /etc/pw/config.yaml". */
  check: string;
  expected: number | string;
  actual: number | string;
  passed: boolean;
}

/** What a drill checked for one source of the recovery point. */
export interface SourceDrill {
  name: string;
  kind: SourceDefinition["kind"];
  assertions: DrillAssertion[];
}

/** The outcome of one restore drill. Never holds a secret or a file digest. */
export interface DrillResult {
  /** The recovery point restored; absent when none could be found. */
  recoveryPoint?: string;
  host: string;
  status: "passed" | "failed";
  startedAt: string;
  /** Wall time of the restore into the sandbox (not of starting the sandbox or checking). */
  restoreMs: number;
  /** Wall time of the whole drill, sandbox included. */
  durationMs: number;
  sources: SourceDrill[];
  /** Why the drill failed: failed assertions, a failed restore step, or a sandbox that did not start. */
  failure?: string;
}
