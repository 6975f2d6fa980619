import type { HealthCheck, ServiceControl, SourceDefinition } from "../definition/host-definition.js";
import type { SampledFile } from "./file-sample.js";

/** Marks the snapshot that records a recovery point (its `source.kind`). */
export const RECOVERY_POINT_KIND = "recovery-point";
export const RECOVERY_POINT_FORMAT = 1;

/** How one source fared in a backup run. */
export interface SourceOutcome {
  name: string;
  kind: SourceDefinition["kind"];
  status: "ok" | "failed";
  /** The source's snapshot; absent when it failed (no snapshot is written then). */
  snapshotId?: string;
  /** Server or format version: PostgreSQL's, Redis's, "config/1", "files/1". */
  version?: string;
  /** What a restore is verified against: rows per table, keys per Redis database, file counts. */
  counts?: Record<string, number>;
  files?: number;
  bytes?: number;
  addedBytes?: number;
  durationMs: number;
  /** Backed up, but with something to look at: unreadable files, certificates near expiry. */
  warnings: string[];
  error?: { code: string; message: string };
  /** Configuration and data sources: files digested from disk at backup time, checked by restore drills. */
  sample?: SampledFile[];
  /**
   * The source as it was defined on the host, without secrets (only where a
   * password comes from): a replacement host restores from it.
   */
  definition: SourceDefinition;
}

/** One backup run of a host: the snapshots of all its sources, taken together. */
export interface RecoveryPoint {
  format: typeof RECOVERY_POINT_FORMAT;
  id: string;
  host: string;
  startedAt: string;
  finishedAt: string;
  /** complete: every source ok; partial: some failed; failed: none ok. */
  status: "complete" | "partial" | "failed";
  appVersion?: string;
  sources: SourceOutcome[];
  /** The host's service control and health check at backup time, for a restore on a replacement. */
  services?: ServiceControl;
  health?: HealthCheck;
}

/** A recovery point as found in a repository, with the id of the snapshot that records it. */
export interface StoredRecoveryPoint extends RecoveryPoint {
  recordSnapshotId: string;
}

export function recoveryPointTag(id: string): string {
  return `rp:${id}`;
}

export function statusOf(sources: readonly SourceOutcome[]): RecoveryPoint["status"] {
  const ok = sources.filter((s) => s.status === "ok").length;
  if (ok === sources.length) return "complete";
  return ok === 0 ? "failed" : "partial";
}

/** Sortable and unique enough across hosts: UTC time to the second plus 6 random hex digits. */
export function newRecoveryPointId(now: Date, random: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${random}`;
}
