import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Prisma, Repository as RepositoryRow } from "@pwdr/catalog";
import type { RecoveryPoint, SourceOutcome } from "@pwdr/protocol";
import { CONTROLLER_REPOSITORY_KIND } from "../fleet-storage/host-repositories.js";
import { catalogSourceKind, recoveryPointStatus } from "./run-states.js";

type Tx = Prisma.TransactionClient;

/**
 * `Repository.passwordKeyId` of a repository the agent reported but the
 * controller does not store (the agent's own local directory): the agent
 * holds its password, so the row carries an empty ciphertext under this id
 * rather than a made-up secret. Such repositories cannot be opened by the
 * controller, nor found again by `catalog rebuild`.
 */
export const AGENT_HELD_PASSWORD = "agent-held";

/** A result that names another host's data; recorded nowhere. */
export class ForeignRecordError extends Error {}

interface PointContext {
  hostId: string;
  jobRunId: string;
  /** When the run started: the point's time if the agent sent none. */
  startedAt: Date;
}

/**
 * Upserts the recovery point and one Snapshot row per source that wrote a
 * snapshot. The catalog id of the point is the agent's recovery point id, the
 * id a restore asks the repository for, so a replayed result (or a catalog
 * rebuild that found the point first) meets the same row.
 */
export async function recordRecoveryPoint(tx: Tx, point: RecoveryPoint, ctx: PointContext): Promise<void> {
  const existing = await tx.recoveryPoint.findUnique({ where: { id: point.recoveryPointId } });
  if (existing && existing.hostId !== ctx.hostId) {
    throw new ForeignRecordError(`recovery point ${point.recoveryPointId} belongs to another host`);
  }
  const time = point.time ? timestampDate(point.time) : ctx.startedAt;
  const data = {
    time,
    status: recoveryPointStatus(point.sources.map((s) => s.state)),
    versions: { ...point.versions },
    jobRunId: ctx.jobRunId,
  };
  await tx.recoveryPoint.upsert({
    where: { id: point.recoveryPointId },
    create: { id: point.recoveryPointId, hostId: ctx.hostId, ...data },
    update: data,
  });
  for (const source of point.sources) {
    if (source.snapshotId) await recordSnapshot(tx, source, { ...ctx, time, pointId: point.recoveryPointId });
  }
}

async function recordSnapshot(
  tx: Tx,
  source: SourceOutcome,
  ctx: PointContext & { time: Date; pointId: string },
): Promise<void> {
  const repository = await repositoryFor(tx, ctx.hostId, source.repository);
  const key = { repositoryId: repository.id, snapshotId: source.snapshotId };
  const existing = await tx.snapshot.findUnique({ where: { repositoryId_snapshotId: key } });
  if (existing && existing.hostId !== ctx.hostId) {
    throw new ForeignRecordError(`snapshot ${source.snapshotId} belongs to another host`);
  }
  const data = {
    recoveryPointId: ctx.pointId,
    sourceName: source.source,
    sourceKind: catalogSourceKind(source.kind) ?? "files",
    time: ctx.time,
    sizeBytes: source.sizeBytes,
    addedBytes: source.addedBytes,
    fileCount: Number(source.fileCount),
    status: recoveryPointStatus([source.state]),
    error: source.error?.message || null,
    stats: { counts: Object.fromEntries(Object.entries(source.counts).map(([k, v]) => [k, Number(v)])) },
  };
  await tx.snapshot.upsert({
    where: { repositoryId_snapshotId: key },
    create: { ...key, hostId: ctx.hostId, ...data },
    update: data,
  });
}

/**
 * The name an agent reports for its own repository on the controller
 * (repositoryNameOf in the agent); local repositories are reported by their
 * absolute path, so it cannot be mistaken for one.
 */
const OWN_CONTROLLER_REPOSITORY = "controller";

/**
 * The catalog row of the repository a source reported: a repository the
 * controller knows by that name (a host repository is named by its host id),
 * the host's controller repository when the agent sent no name or
 * "controller", or else a row for a repository the agent keeps itself, named
 * `<host id>/<name>` because agents choose such names independently.
 */
export async function repositoryFor(tx: Tx, hostId: string, reported: string): Promise<RepositoryRow> {
  const name = reported === OWN_CONTROLLER_REPOSITORY ? "" : reported;
  const known = await tx.repository.findUnique({ where: { name: name || hostId } });
  if (known && (name || known.kind === CONTROLLER_REPOSITORY_KIND)) return known;
  const scoped = `${hostId}/${name || "unnamed"}`;
  const existing = await tx.repository.findUnique({ where: { name: scoped } });
  if (existing) return existing;
  return tx.repository.create({
    data: {
      name: scoped,
      kind: "local",
      location: name || "unnamed",
      passwordCiphertext: new Uint8Array(),
      passwordKeyId: AGENT_HELD_PASSWORD,
    },
  });
}
