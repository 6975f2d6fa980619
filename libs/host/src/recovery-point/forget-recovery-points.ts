import {
  applyPolicy,
  type KeepDecision,
  listSnapshots,
  type Repository,
  type RetentionPolicy,
  type SnapshotEntry,
  withLock,
} from "@pwdr/repo";
import { recoveryPointsIn } from "./find-recovery-points.js";
import { RECOVERY_POINT_KIND, type StoredRecoveryPoint } from "./recovery-point.js";

interface DatedPoint {
  id: string;
  time: string;
  tags: string[];
  point: StoredRecoveryPoint;
}

export interface ForgetPointsResult {
  /** Newest first, each with the rules that keep it (empty when forgotten). */
  decisions: { id: string; startedAt: string; status: string; keep: boolean; reasons: string[] }[];
  /** Snapshot files removed: records, their sources' snapshots, and leftovers of runs that never finished. */
  removedSnapshots: string[];
}

/**
 * Retention over whole recovery points of a host, so a point is kept or
 * forgotten with all its sources' snapshots (a per-source policy could keep a
 * point's record and drop its database dump). Snapshots tagged with a point
 * whose record was never written (a crashed run) are removed once a newer
 * point exists. `prune` frees the data afterwards.
 */
export async function forgetRecoveryPoints(
  repo: Repository,
  host: string,
  policy: RetentionPolicy,
  options: { dryRun?: boolean } = {},
): Promise<ForgetPointsResult> {
  const operation = options.dryRun ? "forget --dry-run" : "forget";
  return withLock(repo, { exclusive: false, operation }, async () => {
    const snapshots = await listSnapshots(repo, { host });
    const points = recoveryPointsIn(snapshots);
    const dated: DatedPoint[] = points.map((point) => ({
      id: point.id,
      time: point.startedAt,
      tags: [],
      point,
    }));
    const decisions = applyPolicy(dated, policy);
    const doomed = new Set(decisions.filter((d) => !d.keep).map((d) => d.snapshot.id));
    const victims = snapshotsToRemove(snapshots, points, doomed);
    if (!options.dryRun) {
      for (const id of victims) await repo.backend.remove({ type: "snapshots", name: id });
    }
    return { decisions: decisions.map(describe), removedSnapshots: options.dryRun ? [] : victims };
  });
}

/** Records first: a point whose record is gone is never offered for restore, whatever happens next. */
function snapshotsToRemove(
  snapshots: readonly SnapshotEntry[],
  points: StoredRecoveryPoint[],
  doomed: Set<string>,
): string[] {
  const known = new Set(points.map((p) => p.id));
  const newest = points.at(-1)?.startedAt ?? "";
  const records: string[] = [];
  const members: string[] = [];
  for (const s of snapshots) {
    const id = s.tags.find((t) => t.startsWith("rp:"))?.slice(3);
    if (id === undefined) continue;
    const orphan = !known.has(id) && s.time < newest;
    if (!doomed.has(id) && !orphan) continue;
    (s.source?.kind === RECOVERY_POINT_KIND ? records : members).push(s.id);
  }
  return [...records, ...members];
}

function describe(d: KeepDecision<DatedPoint>): ForgetPointsResult["decisions"][number] {
  const p = d.snapshot.point;
  return { id: p.id, startedAt: p.startedAt, status: p.status, keep: d.keep, reasons: d.reasons };
}
