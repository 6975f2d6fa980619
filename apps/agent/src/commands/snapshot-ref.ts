import { findSnapshot, type Repository, type SnapshotEntry } from "@pwdr/repo";

/** Resolves a snapshot argument ("latest", an id or a unique prefix) and loads the index to read it. */
export async function resolveSnapshot(
  repo: Repository,
  ref: string,
  filter: { host?: string; path?: string[] } = {},
): Promise<SnapshotEntry> {
  const snapshot = await findSnapshot(repo, ref, {
    ...(filter.host ? { host: filter.host } : {}),
    ...(filter.path?.length ? { paths: filter.path } : {}),
  });
  await repo.loadIndex();
  return snapshot;
}
