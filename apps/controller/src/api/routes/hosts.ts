import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, Host, HostState } from "@pwdr/catalog";
import { Type } from "typebox";
import { notFound } from "../api-errors.js";
import { IdParams, isoOrNull } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import { HostDetail, HostListQuery, HostSummary } from "../schemas/host.js";

function toSummary(host: Host) {
  return {
    id: host.id,
    name: host.name,
    labels: host.labels as Record<string, string>,
    site: host.site,
    state: host.state as HostState,
    agentVersion: host.agentVersion,
    lastSeenAt: isoOrNull(host.lastSeenAt),
    createdAt: host.createdAt.toISOString(),
  };
}

function toDetail(host: Host) {
  return {
    ...toSummary(host),
    facts: (host.facts as Record<string, unknown> | null) ?? null,
    updatedAt: host.updatedAt.toISOString(),
  };
}

/** Read-only views of enrolled hosts. */
export const hostRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/hosts",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List hosts",
        tags: ["hosts"],
        querystring: HostListQuery,
        response: { 200: Type.Object({ hosts: Type.Array(HostSummary) }), ...errorResponses },
      },
    },
    async (request) => {
      const { state, site } = request.query;
      const hosts = await db.host.findMany({
        where: { ...(state ? { state } : {}), ...(site ? { site } : {}) },
        orderBy: { name: "asc" },
      });
      return { hosts: hosts.map(toSummary) };
    },
  );

  app.get(
    "/hosts/:id",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show one host",
        tags: ["hosts"],
        params: IdParams,
        response: { 200: HostDetail, ...errorResponses },
      },
    },
    async (request) => {
      const host = await db.host.findUnique({ where: { id: request.params.id } });
      if (!host) throw notFound("host", request.params.id);
      return toDetail(host);
    },
  );
};
