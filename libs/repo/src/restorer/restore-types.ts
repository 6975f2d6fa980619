import type { NodeType } from "../tree/tree-node.js";

/**
 * What to do with an entry that already exists in the target:
 * - `always` (default): replace it;
 * - `if-changed`: replace a file whose content differs, fix the metadata of
 *   one whose content is right, leave the rest. As in restic, a file with the
 *   snapshot's size and mtime is taken as unchanged without reading it; any
 *   other file of the right size is read and compared blob by blob;
 * - `never`: leave it as it is.
 */
export type OverwriteMode = "always" | "if-changed" | "never";

export interface RestoreOptions {
  /** Directory to restore into; created when missing. */
  target: string;
  /** Paths inside the snapshot to restore (a directory's whole tree, or single files); all when empty. */
  include?: string[];
  /** Put an included directory's content (or an included file) directly into the target. */
  stripPrefix?: boolean;
  overwrite?: OverwriteMode;
  /** Decide and report everything (onItem, the result) but write nothing. */
  dryRun?: boolean;
  /** Restore owners (uid/gid). Default: when running as root; otherwise files belong to the caller. */
  sameOwner?: boolean;
  /** How long to wait for an exclusive lock (a prune deleting) to go away; default 10 minutes. */
  lockWaitMs?: number;
  onProgress?: (progress: RestoreProgress) => void;
  /** Called once per entry with what was (or, with dryRun, would be) done. */
  onItem?: (item: RestoreItem) => void;
}

export type RestoreAction = "create" | "replace" | "update-metadata" | "unchanged" | "skip";

export interface RestoreItem {
  /** Path inside the snapshot, as text. */
  path: string;
  /** Where it goes on disk (raw bytes). */
  targetPath: Buffer;
  type: NodeType;
  action: RestoreAction;
  size: number;
  /** Why an entry was skipped. */
  reason?: string;
}

/** Something restored incompletely (an owner or mode the file system refused, a device without root). */
export interface RestoreIssue {
  path: string;
  message: string;
}

export interface RestoreResult {
  /** Non-directory entries written (files, hardlinks, symlinks, FIFOs, devices). */
  files: number;
  /** Directories created, replaced or whose metadata changed. */
  dirs: number;
  /** Content bytes of the files written (their logical size: holes count). */
  bytes: number;
  /** Entries left as they were: existing ones (`never`), unchanged ones (`if-changed`), unsupported ones. */
  skipped: number;
  /** The part of `skipped` that already matched the snapshot. */
  unchanged: number;
  errors: RestoreIssue[];
}

export interface RestoreProgress {
  phase: "restore" | "done";
  files: number;
  dirs: number;
  bytes: number;
  skipped: number;
  /** Non-directory entries and bytes selected for restore (counted before starting). */
  totalFiles: number;
  totalBytes: number;
  currentPath?: string;
}
