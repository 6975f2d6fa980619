import { listSnapshots, RepoError, type Repository, type SnapshotEntry } from "@pwdr/repo";
import { RECOVERY_POINT_KIND, type RecoveryPoint, type StoredRecoveryPoint } from "./recovery-point.js";

/** Recovery points in the repository, oldest first; of one host when given. */
export async function listRecoveryPoints(
  repo: Repository,
  filter: { host?: string } = {},
): Promise<StoredRecoveryPoint[]> {
  return recoveryPointsIn(await listSnapshots(repo, filter.host ? { host: filter.host } : {}));
}

/** The recovery point records among `snapshots`, in their order. */
export function recoveryPointsIn(snapshots: readonly SnapshotEntry[]): StoredRecoveryPoint[] {
  const points: StoredRecoveryPoint[] = [];
  for (const s of snapshots) {
    if (s.source?.kind !== RECOVERY_POINT_KIND) continue;
    const record = s.meta?.recoveryPoint as RecoveryPoint | undefined;
    if (record?.format === 1) points.push({ ...record, recordSnapshotId: s.id });
  }
  return points;
}

/**
 * A recovery point by id (or a unique prefix of it), or "latest": the newest
 * complete one of the host.
 */
export async function findRecoveryPoint(
  repo: Repository,
  ref: string,
  filter: { host?: string } = {},
): Promise<StoredRecoveryPoint> {
  const points = await listRecoveryPoints(repo, filter);
  const where = filter.host ? ` of host ${filter.host}` : "";
  if (ref === "latest") {
    const latest = points.filter((p) => p.status === "complete").at(-1);
    if (!latest)
      throw new RepoError("snapshot_not_found", `no complete recovery point${where} in the repository`);
    return latest;
  }
  const matches = points.filter((p) => p.id.startsWith(ref));
  if (matches.length === 1) return matches[0] as StoredRecoveryPoint;
  if (matches.length === 0) throw new RepoError("snapshot_not_found", `no recovery point ${ref}${where}`);
  throw new RepoError(
    "invalid_argument",
    `${ref} matches ${matches.length} recovery points (${matches.map((m) => m.id).join(", ")}); give more of the id`,
  );
}
