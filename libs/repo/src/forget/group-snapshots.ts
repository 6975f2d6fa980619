import type { Snapshot } from "../snapshot/snapshot.js";

/**
 * How `forget` groups snapshots before applying a policy to each group:
 * by host, source name and the set of backed-up paths (the default: each
 * backup job keeps its own history), or by host alone.
 */
export type GroupBy = "host-source-paths" | "host";

export interface GroupKey {
  host: string;
  /** Absent when grouping by host, or when the snapshots have no source. */
  source?: string;
  /** Sorted; absent when grouping by host. */
  paths?: string[];
}

export interface SnapshotGroup<S> {
  key: GroupKey;
  snapshots: S[];
}

function keyOf(s: Snapshot, by: GroupBy): GroupKey {
  if (by === "host") return { host: s.host };
  const key: GroupKey = { host: s.host, paths: [...s.paths].sort() };
  if (s.source) key.source = s.source.name;
  return key;
}

/** Groups sorted by host, then source, then paths; snapshots keep their order within a group. */
export function groupSnapshots<S extends Snapshot>(snapshots: readonly S[], by: GroupBy): SnapshotGroup<S>[] {
  const groups = new Map<string, SnapshotGroup<S>>();
  for (const s of snapshots) {
    const key = keyOf(s, by);
    const id = JSON.stringify([key.host, key.source ?? "", key.paths ?? []]);
    let group = groups.get(id);
    if (!group) {
      group = { key, snapshots: [] };
      groups.set(id, group);
    }
    group.snapshots.push(s);
  }
  return [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, group]) => group);
}
