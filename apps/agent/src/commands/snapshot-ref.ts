import { findSnapshot, type Repository, type SnapshotEntry } from "@pwdr/repo";

/** Resolves a snapshot argument ("latest", an id or a unique prefix); the commands reading it load the index themselves. */
export function resolveSnapshot(
  repo: Repository,
  ref: string,
  filter: { host?: string; path?: string[] } = {},
): Promise<SnapshotEntry> {
  return findSnapshot(repo, ref, {
    ...(filter.host ? { host: filter.host } : {}),
    ...(filter.path?.length ? { paths: filter.path } : {}),
  });
}
