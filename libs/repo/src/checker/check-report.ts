/** What `check` found wrong, by the repository file at fault. */
export type CheckErrorKind =
  /** An index file cannot be read: the packs it lists are unknown to readers. */
  | "index_damaged"
  /** An index lists a pack that does not exist. */
  | "pack_missing"
  /** A pack's size differs from what its index entries imply (truncated or overwritten). */
  | "pack_size"
  /** Read-data: a pack's bytes do not match its name, its header or its blobs are damaged. */
  | "pack_damaged"
  /** Snapshots reference blobs that no readable index lists. */
  | "blobs_missing"
  /** A tree blob cannot be read or holds invalid entries. */
  | "tree_damaged"
  /** A snapshot file cannot be read. */
  | "snapshot_damaged";

/** A snapshot that lost data, and where. */
export interface AffectedSnapshot {
  snapshot: string;
  /**
   * Paths inside the snapshot whose content cannot be restored, sorted; a
   * directory stands for everything below it, "/" for the whole snapshot.
   */
  paths: string[];
}

export interface CheckError {
  kind: CheckErrorKind;
  /** The repository file at fault, as "<type>/<id>" ("data/…", "index/…", "snapshots/…"). */
  file?: string;
  message: string;
  /** Blobs this problem makes unreadable here (a blob with an intact copy elsewhere is not lost). */
  blobs: string[];
  /** Snapshots that lose data through this problem, oldest first. */
  affected: AffectedSnapshot[];
}

export interface CheckWarning {
  /** A pack no index lists: left by a writer that crashed; `prune` removes it. */
  kind: "unreferenced_pack";
  file: string;
  message: string;
}

export interface CheckReport {
  errors: CheckError[];
  warnings: CheckWarning[];
  /** Snapshots that cannot be restored completely, oldest first. */
  damagedSnapshots: string[];
  snapshotsChecked: number;
  /** Indexed packs whose existence and size were checked. */
  packsChecked: number;
  /** Packs read in full (read-data). */
  packsRead: number;
  /** Blobs decrypted and verified: every tree blob, plus every blob of the packs read. */
  blobsChecked: number;
  /** Bytes of packs read in full. */
  bytesRead: number;
}

export type CheckPhase = "indexes" | "packs" | "snapshots" | "read-data" | "affected";

/** `done` of `total` items of the phase: index files, packs, snapshots, packs to read, snapshots. */
export interface CheckProgress {
  phase: CheckPhase;
  done: number;
  total: number;
}
