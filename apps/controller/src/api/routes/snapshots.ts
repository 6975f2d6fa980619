import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import { isRepoError } from "@pwdr/repo";
import { Type } from "typebox";
import { CONTROLLER_REPOSITORY_KIND } from "../../fleet-storage/host-repositories.js";
import { ApiError, notFound } from "../api-errors.js";
import { IdParams } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import { type HostRepositoryAccess, MAX_ENTRIES, SnapshotTrees } from "./snapshots-tree.js";

const TreeQuery = Type.Object(
  { path: Type.String({ maxLength: 4096, default: "/", description: "Directory inside the snapshot" }) },
  { additionalProperties: false },
);

const TreeView = Type.Object(
  {
    snapshotId: Type.String(),
    sourceName: Type.String(),
    path: Type.String(),
    entries: Type.Array(
      Type.Object({
        name: Type.String(),
        path: Type.String(),
        type: Type.String({ description: "file, dir, symlink, fifo, chardev, blockdev or socket" }),
        size: Type.Integer({ minimum: 0 }),
        mode: Type.Integer({ description: "Permission bits" }),
        mtime: Type.String({ format: "date-time" }),
        target: Type.Optional(Type.String({ description: "Where a symlink points" })),
      }),
    ),
    truncated: Type.Boolean({ description: `More than ${MAX_ENTRIES} entries: the rest is left out` }),
  },
  { description: "One directory of a snapshot" },
);

export interface SnapshotRouteOptions {
  db: Catalog;
  /** The controller's host repositories; without them (tests of other routes) listing answers 503. */
  repositories?: HostRepositoryAccess | undefined;
}

function toApiError(err: unknown): unknown {
  if (isRepoError(err) && (err.code === "path_not_found" || err.code === "snapshot_not_found")) {
    return new ApiError("NOT_FOUND", err.message);
  }
  if (isRepoError(err) && err.code === "invalid_argument") {
    return new ApiError("VALIDATION_FAILED", err.message, [
      { path: "querystring/path", message: err.message },
    ]);
  }
  return err;
}

/** The files of a snapshot, for the repositories the controller stores (it holds their passwords). */
export const snapshotRoutes: FastifyPluginAsyncTypebox<SnapshotRouteOptions> = async (app, options) => {
  const { db, repositories } = options;
  const trees = repositories ? new SnapshotTrees(repositories) : undefined;
  app.addHook("onClose", async () => trees?.close());

  app.get(
    "/snapshots/:id/tree",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List a directory of a snapshot",
        description:
          "id is the catalog id of the snapshot (a recovery point's snapshots list it). Only snapshots in " +
          "repositories stored on the controller can be listed; a host's local repository answers 409.",
        tags: ["recovery-points"],
        params: IdParams,
        querystring: TreeQuery,
        response: { 200: TreeView, ...errorResponses },
      },
    },
    async (request) => {
      const snapshot = await db.snapshot.findUnique({
        where: { id: request.params.id },
        include: { repository: true, host: { select: { name: true } } },
      });
      if (!snapshot) throw notFound("snapshot", request.params.id);
      if (snapshot.repository.kind !== CONTROLLER_REPOSITORY_KIND) {
        throw new ApiError(
          "CONFLICT",
          `the snapshot is in ${snapshot.host.name}'s own repository (${snapshot.repository.kind}), which the ` +
            `controller cannot open; list it on the host with \`pwdr-agent ls ${snapshot.snapshotId.slice(0, 8)}\``,
        );
      }
      if (!trees) throw new ApiError("UNAVAILABLE", "this controller serves no host repositories");
      try {
        const listing = await trees.list(snapshot.repository.name, snapshot.snapshotId, request.query.path);
        return { snapshotId: snapshot.id, sourceName: snapshot.sourceName, ...listing };
      } catch (err) {
        throw toApiError(err);
      }
    },
  );
};
