/**
 * Storage for whole repository files. A backend knows nothing of blobs,
 * encryption or packs; it moves named byte strings (restic's backend,
 * kopia's blob storage).
 *
 * Contract every implementation keeps (checked by the conformance suite in
 * backend-suite.ts):
 * - `save` is atomic: after it resolves the file is durable and complete;
 *   after a crash the file is absent or complete, never partial. Saving a
 *   name that exists with the same content is not an error.
 * - `load` of a file saved before returns exactly its bytes (read-after-write).
 * - `list` yields each file of a type exactly once, skipping temporary files.
 * - `remove` of a missing file is not an error.
 * - Failures are RepoErrors: `no_space` (permanent), `backend_unavailable`
 *   (retry may help), `repo_not_found`.
 */
export type FileType = "config" | "keys" | "data" | "index" | "snapshots" | "locks";

export interface FileHandle {
  type: FileType;
  /** 64 hex characters, except for `config` whose name is "config". */
  name: string;
}

export interface FileInfo {
  name: string;
  size: number;
}

export interface BackendReader {
  load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer>;
  stat(handle: FileHandle): Promise<FileInfo | undefined>;
  list(type: FileType): AsyncIterable<FileInfo>;
}

export interface BackendWriter {
  save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void>;
  remove(handle: FileHandle): Promise<void>;
}

export interface Backend extends BackendReader, BackendWriter {
  /** Human-readable location for messages, e.g. "local:/srv/backups". */
  readonly location: string;
  /** Creates the directory structure; fails with repo_exists when a config exists. */
  create(): Promise<void>;
}
