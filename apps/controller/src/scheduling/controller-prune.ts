// Prune of a host repository the controller serves: agents may only append
// to it, so retention and garbage collection run here, on the controller.
import type { Catalog, Job } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { LocalBackend, prune, Repository, type RetentionPolicy } from "@pwdr/repo";
import { parseDuration } from "../duration.js";
import type { HostRepositories } from "../fleet-storage/host-repositories.js";
import type { PolicyRetention } from "../policy-schema.js";

export interface ControllerPruneDeps {
  db: Catalog;
  repositories: HostRepositories;
  log: Logger;
}

export interface ControllerPruneOutcome {
  pointsForgotten: string[];
  snapshotsRemoved: number;
  bytesDeleted: number;
}

export function retentionPolicyOf(retention: PolicyRetention): RetentionPolicy {
  const { within, ...counts } = retention;
  return { ...counts, ...(within ? { keepWithin: parseDuration(within, "within") } : {}) };
}

/** Forgets per the retention for every host name the repository holds, then frees the data. */
async function pruneRepository(repo: Repository, policy: RetentionPolicy, dryRun: boolean) {
  // Loaded on use: @pwdr/host brings the source drivers, which the controller needs only here.
  const { forgetRecoveryPoints, listRecoveryPoints } = await import("@pwdr/host");
  const names = new Set((await listRecoveryPoints(repo)).map((p) => p.host));
  const forgotten: string[] = [];
  const removed: string[] = [];
  for (const name of names) {
    const result = await forgetRecoveryPoints(repo, name, policy, { dryRun });
    forgotten.push(...result.decisions.filter((d) => !d.keep).map((d) => d.id));
    removed.push(...result.removedSnapshots);
  }
  const pruned = dryRun || removed.length === 0 ? undefined : await prune(repo);
  return { forgotten, removed, bytesDeleted: pruned?.bytesDeleted ?? 0 };
}

/**
 * Deletes the catalog rows of what the repository no longer holds: the
 * snapshots removed, and the recovery points forgotten (by id, or because
 * their snapshots went).
 */
async function forgetInCatalog(db: Catalog, hostId: string, forgotten: string[], removed: string[]) {
  const repository = await db.repository.findUnique({ where: { name: hostId }, select: { id: true } });
  if (!repository) return;
  const snapshots = await db.snapshot.findMany({
    where: { repositoryId: repository.id, snapshotId: { in: removed } },
    select: { id: true, recoveryPointId: true },
  });
  const points = new Set(forgotten);
  for (const s of snapshots) if (s.recoveryPointId) points.add(s.recoveryPointId);
  await db.$transaction([
    db.snapshot.deleteMany({ where: { id: { in: snapshots.map((s) => s.id) } } }),
    db.recoveryPoint.deleteMany({ where: { hostId, id: { in: [...points] } } }),
  ]);
}

/** Runs a prune job of a controller-served host repository and records it as a JobRun. */
export async function runControllerPrune(
  deps: ControllerPruneDeps,
  job: Job,
): Promise<ControllerPruneOutcome> {
  const spec =
    ((job.params ?? {}) as { spec?: { retention?: PolicyRetention; dryRun?: boolean } }).spec ?? {};
  if (!spec.retention) throw new Error("the prune job has no retention rules");
  const password = await deps.repositories.ensure(job.hostId);
  const repo = await Repository.open(new LocalBackend(deps.repositories.directoryOf(job.hostId)), password);
  try {
    const result = await pruneRepository(repo, retentionPolicyOf(spec.retention), spec.dryRun === true);
    if (spec.dryRun !== true) await forgetInCatalog(deps.db, job.hostId, result.forgotten, result.removed);
    return {
      pointsForgotten: result.forgotten,
      snapshotsRemoved: result.removed.length,
      bytesDeleted: result.bytesDeleted,
    };
  } finally {
    await repo.close();
  }
}
