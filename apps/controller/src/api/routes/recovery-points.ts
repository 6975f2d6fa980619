import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type {
  Catalog,
  RecoveryPoint,
  RecoveryPointStatus,
  Snapshot,
  SnapshotStatus,
  SourceKind,
} from "@pwdr/catalog";
import { notFound } from "../api-errors.js";
import { IdParams } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import { RecoveryPointDetail, RecoveryPointListQuery, RecoveryPointPage } from "../schemas/recovery-point.js";

type PointRow = RecoveryPoint & { host: { name: string }; _count: { snapshots: number } };

const WITH_HOST_AND_COUNT = {
  host: { select: { name: true } },
  _count: { select: { snapshots: true } },
} as const;

function toView(point: PointRow) {
  return {
    id: point.id,
    hostId: point.hostId,
    hostName: point.host.name,
    time: point.time.toISOString(),
    status: point.status as RecoveryPointStatus,
    versions: point.versions as Record<string, string>,
    jobRunId: point.jobRunId,
    snapshotCount: point._count.snapshots,
    createdAt: point.createdAt.toISOString(),
  };
}

function toSnapshotView(snapshot: Snapshot & { repository: { name: string } }) {
  return {
    id: snapshot.id,
    repository: snapshot.repository.name,
    snapshotId: snapshot.snapshotId,
    sourceName: snapshot.sourceName,
    sourceKind: snapshot.sourceKind as SourceKind,
    time: snapshot.time.toISOString(),
    sizeBytes: Number(snapshot.sizeBytes),
    addedBytes: Number(snapshot.addedBytes),
    fileCount: snapshot.fileCount,
    status: snapshot.status as SnapshotStatus,
    error: snapshot.error,
    stats: (snapshot.stats as Record<string, unknown> | null) ?? null,
  };
}

/** Recovery points (what a restore picks) and their snapshots; read-only, for viewers. */
export const recoveryPointRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/recovery-points",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List recovery points, newest first",
        tags: ["recovery-points"],
        querystring: RecoveryPointListQuery,
        response: { 200: RecoveryPointPage, ...errorResponses },
      },
    },
    async (request) => {
      const { host, status, limit, cursor } = request.query;
      const points = await db.recoveryPoint.findMany({
        where: {
          ...(host ? { OR: [{ hostId: host }, { host: { name: host } }] } : {}),
          ...(status ? { status } : {}),
          ...(cursor ? { id: { lt: cursor } } : {}),
        },
        // Recovery point ids start with their UTC time (20261126T021500Z-…): id order is time order.
        orderBy: { id: "desc" },
        take: limit + 1,
        include: WITH_HOST_AND_COUNT,
      });
      const page = points.slice(0, limit);
      return {
        recoveryPoints: page.map(toView),
        nextCursor: points.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    "/recovery-points/:id",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show a recovery point with its snapshots",
        tags: ["recovery-points"],
        params: IdParams,
        response: { 200: RecoveryPointDetail, ...errorResponses },
      },
    },
    async (request) => {
      const point = await db.recoveryPoint.findUnique({
        where: { id: request.params.id },
        include: {
          ...WITH_HOST_AND_COUNT,
          snapshots: { orderBy: { sourceName: "asc" }, include: { repository: { select: { name: true } } } },
        },
      });
      if (!point) throw notFound("recovery point", request.params.id);
      return { ...toView(point), snapshots: point.snapshots.map(toSnapshotView) };
    },
  );
};
