export type PrunePhase =
  | "indexes"
  | "snapshots"
  | "repack"
  | "exclusive-lock"
  | "delete-indexes"
  | "delete-packs";

/** `done` of `total` items of the phase: index files, snapshots, packs; 0 of 1 while waiting for the lock. */
export interface PruneProgress {
  phase: PrunePhase;
  done: number;
  total: number;
}

export type PruneProgressListener = (p: PruneProgress) => void;
