// The PWDR repository: content-defined chunks, deduplicated, compressed and
// encrypted into packs, with indexes and snapshots (docs/repository-format.md).
// Glossary: blob = one chunk or tree; pack = file of blobs; index = blob → pack map.
export {
  Backup,
  type BackupOptions,
  type BackupResult,
  type BackupWarning,
  PROGRAM,
} from "./archiver/archiver.js";
export type { BackupProgress } from "./archiver/progress.js";
export type {
  Backend,
  BackendReader,
  BackendWriter,
  FileHandle,
  FileInfo,
  FileType,
} from "./backend/backend.js";
export { LocalBackend } from "./backend/local-backend.js";
export { ThrottledBackend } from "./backend/throttled-backend.js";
export {
  type ChangeKind,
  type DiffChange,
  type DiffTotals,
  diffSnapshots,
  SnapshotDiff,
} from "./browse/diff.js";
export { type ListEntry, type ListOptions, listFiles } from "./browse/list-files.js";
export type {
  AffectedSnapshot,
  CheckError,
  CheckErrorKind,
  CheckProgress,
  CheckReport,
  CheckWarning,
} from "./checker/check-report.js";
export { type CheckOptions, checkRepository } from "./checker/check-repository.js";
export { type ReadDataSelection, validateSelection } from "./checker/select-packs.js";
export { type ChunkerParams, FastCdc } from "./chunker/fastcdc.js";
export { type CodecName, compressBlob, decompressBlob } from "./compression/codec.js";
export type { KdfParams } from "./crypto/key-file.js";
export { isRepoError, REPO_ERRORS, RepoError, type RepoErrorCode } from "./errors.js";
export { applyPolicy, type KeepDecision } from "./forget/apply-policy.js";
export { type ForgetOptions, type ForgetResult, forget } from "./forget/forget.js";
export { formatDuration } from "./forget/format-duration.js";
export type { GroupBy, GroupKey } from "./forget/group-snapshots.js";
export { type RetentionPolicy, validatePolicy } from "./forget/retention-policy.js";
export type { BlobLocation } from "./index/master-index.js";
export { acquireLock, type LockOptions } from "./lock/acquire-lock.js";
export { type LockEntry, listLocks, removeStaleLocks } from "./lock/list-locks.js";
export { LockHandle } from "./lock/lock-handle.js";
export { processAlive } from "./lock/process-alive.js";
export { withLock } from "./lock/with-lock.js";
export type { BlobType, PackEntry } from "./pack/pack-format.js";
export { readPackHeader } from "./pack/pack-reader.js";
export { type PruneOptions, type PruneResult, prune } from "./pruner/prune.js";
export type { MaxUnused, PrunePlan } from "./pruner/prune-plan.js";
export type { PruneProgress } from "./pruner/prune-progress.js";
export { FORMAT_VERSION, type RepoParams } from "./repo-config.js";
export { addKey, type KeyInfo, listKeys, removeKey } from "./repo-keys.js";
export { type InitOptions, Repository } from "./repository.js";
export { dumpFile } from "./restorer/dump.js";
export {
  type OverwriteMode,
  type RestoreAction,
  type RestoreIssue,
  type RestoreItem,
  type RestoreOptions,
  type RestoreProgress,
  type RestoreResult,
  restoreSnapshot,
} from "./restorer/restorer.js";
export {
  findSnapshot,
  listSnapshots,
  loadSnapshot,
  type Snapshot,
  type SnapshotEntry,
  type SnapshotFilter,
  type SnapshotSummary,
} from "./snapshot/snapshot.js";
export { findNode, loadTree, splitPath, type WalkedNode, walkTree } from "./tree/tree-io.js";
export { type NodeType, nodeDisplayName, type Tree, type TreeNode } from "./tree/tree-node.js";
export { type UnlockedRepository, unlockRepository } from "./unlock.js";
export { type SavedBlob, WriteSession } from "./write-session.js";
