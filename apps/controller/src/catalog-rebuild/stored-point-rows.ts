import type { Prisma } from "@pwdr/catalog";
import type { SourceOutcome, StoredRecoveryPoint } from "@pwdr/host";

type Tx = Prisma.TransactionClient;

/** Versions as agents report them: source kind -> server or format version, plus the app's. */
function versionsOf(point: StoredRecoveryPoint): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const source of point.sources) {
    if (source.version && !(source.kind in versions)) versions[source.kind] = source.version;
  }
  if (point.appVersion) versions.app = point.appVersion;
  return versions;
}

function snapshotData(source: SourceOutcome, time: Date) {
  return {
    sourceName: source.name,
    sourceKind: source.kind,
    time,
    sizeBytes: BigInt(source.bytes ?? 0),
    addedBytes: BigInt(source.addedBytes ?? 0),
    fileCount: source.files ?? 0,
    status: source.status === "ok" ? "complete" : "failed",
    error: source.error?.message ?? null,
    stats: { counts: source.counts ?? {} },
  };
}

/**
 * Adds the catalog rows of a recovery point found in a repository, unless the
 * catalog has them: the point under its repository id (as agents report it)
 * and a Snapshot row per source that wrote a snapshot. Returns what it added.
 */
export async function recordStoredPoint(
  tx: Tx,
  where: { hostId: string; repositoryId: string },
  point: StoredRecoveryPoint,
): Promise<{ recoveryPoints: number; snapshots: number }> {
  const added = { recoveryPoints: 0, snapshots: 0 };
  const time = new Date(point.startedAt);
  if (!(await tx.recoveryPoint.findUnique({ where: { id: point.id } }))) {
    await tx.recoveryPoint.create({
      data: { id: point.id, hostId: where.hostId, time, status: point.status, versions: versionsOf(point) },
    });
    added.recoveryPoints++;
  }
  for (const source of point.sources) {
    if (!source.snapshotId) continue;
    const key = { repositoryId: where.repositoryId, snapshotId: source.snapshotId };
    if (await tx.snapshot.findUnique({ where: { repositoryId_snapshotId: key } })) continue;
    await tx.snapshot.create({
      data: { ...key, hostId: where.hostId, recoveryPointId: point.id, ...snapshotData(source, time) },
    });
    added.snapshots++;
  }
  return added;
}
