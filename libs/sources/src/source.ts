import type { Backup, Repository } from "@pwdr/repo";

/** What a source backs up; matches pwdr.v1 SourceKind. */
export type SourceKind = "postgres" | "redis" | "config" | "files";

/** Progress of a source's backup or restore, for progress bars and controller events. */
export interface SourceProgress {
  phase: string;
  bytesDone: number;
  bytesTotal?: number;
  item?: string;
}

/** A source's backup writes into a Backup (one snapshot per source) and returns what it recorded. */
export interface SourceBackupContext {
  backup: Backup;
  onProgress?: (p: SourceProgress) => void;
}

/**
 * What one source's backup produced, besides its snapshot: versions and
 * counts recorded for verifying restores (e.g. "table:public.scans" -> rows,
 * "redis:db0" -> keys). Never a secret.
 */
export interface SourceBackupResult {
  kind: SourceKind;
  version: string;
  counts: Record<string, number>;
  meta: Record<string, unknown>;
}

/** A source's restore reads a snapshot of it from the repository. */
export interface SourceRestoreContext {
  repo: Repository;
  snapshotId: string;
  onProgress?: (p: SourceProgress) => void;
}
