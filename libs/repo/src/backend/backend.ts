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
 * - A file written through `stage` (when offered) appears under its name
 *   only at `commit`, complete and durable, with the same guarantee.
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

/**
 * A file written piece by piece, so a writer need not hold all of it in
 * memory (a pack is appended to as its blobs arrive). Appends must not
 * overlap. Nothing is visible under a name until `commit`; `discard` (or a
 * crash) leaves only a temporary file that clean-up removes.
 */
export interface StagedFile {
  append(parts: readonly Uint8Array[]): Promise<void>;
  /** Makes the file durable and visible as `name` of the staged type. */
  commit(name: string): Promise<void>;
  discard(): Promise<void>;
}

export interface BackendWriter {
  save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void>;
  remove(handle: FileHandle): Promise<void>;
  /** Starts a staged file of `type`; optional, a writer falls back to buffering and `save`. */
  stage?(type: FileType): Promise<StagedFile>;
}

export interface Backend extends BackendReader, BackendWriter {
  /** Human-readable location for messages, e.g. "local:/srv/backups". */
  readonly location: string;
  /** Creates the directory structure; fails with repo_exists when a config exists. */
  create(): Promise<void>;
}
