import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, Host, HostState } from "@pwdr/catalog";
import { Type } from "typebox";
import { HostNotFoundError, revokedAtOf, revokeHost } from "../../host-revocation.js";
import { agentPolicy } from "../../scheduling/agent-policy.js";
import { fleetEntryOf } from "../../scheduling/fleet-view.js";
import { lastBackupTimes } from "../../scheduling/rpo.js";
import type { SessionRegistry } from "../../session-registry.js";
import { notFound } from "../api-errors.js";
import { IdParams, isoOrNull } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import { HostDetail, HostListQuery, HostRevocationView, HostSummary } from "../schemas/host.js";
import { EffectivePolicyView } from "../schemas/policy.js";

type HostWithCertificates = Host & { certificates: { revokedAt: Date | null }[] };

// Only the revocation times: a host's revocation state is derived from its certificates.
const WITH_CERTIFICATES = { certificates: { select: { revokedAt: true } } } as const;

export interface HostRouteOptions {
  db: Catalog;
  /** The open agent streams, so a revocation ends the host's stream at once. */
  sessions: SessionRegistry;
}

function toSummary(host: HostWithCertificates, lastBackupAt: Date | undefined) {
  return {
    id: host.id,
    name: host.name,
    labels: host.labels as Record<string, string>,
    site: host.site,
    state: host.state as HostState,
    agentVersion: host.agentVersion,
    lastSeenAt: isoOrNull(host.lastSeenAt),
    revokedAt: isoOrNull(revokedAtOf(host.certificates)),
    lastBackupAt: isoOrNull(lastBackupAt ?? null),
    rpoBreachedSince: isoOrNull(host.rpoBreachedSince),
    createdAt: host.createdAt.toISOString(),
  };
}

function toDetail(host: HostWithCertificates, lastBackupAt: Date | undefined) {
  return {
    ...toSummary(host, lastBackupAt),
    facts: (host.facts as Record<string, unknown> | null) ?? null,
    updatedAt: host.updatedAt.toISOString(),
  };
}

/** Views of enrolled hosts, and the revocation of a host's access. */
export const hostRoutes: FastifyPluginAsyncTypebox<HostRouteOptions> = async (app, { db, sessions }) => {
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
        include: WITH_CERTIFICATES,
      });
      const last = await lastBackupTimes(
        db,
        hosts.map((h) => h.id),
      );
      return { hosts: hosts.map((h) => toSummary(h, last.get(h.id))) };
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
      const host = await db.host.findUnique({ where: { id: request.params.id }, include: WITH_CERTIFICATES });
      if (!host) throw notFound("host", request.params.id);
      return toDetail(host, (await lastBackupTimes(db, [host.id])).get(host.id));
    },
  );

  app.get(
    "/hosts/:id/policy",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show the effective policy of a host",
        description:
          "The enabled policy whose selector matches the host's labels (and the reserved label " +
          '"pwdr.io/host" = its name) and that is most specific governs it; every field it leaves ' +
          "unset comes from its parent chain. origins names the policy each value came from.",
        tags: ["hosts", "policies"],
        params: IdParams,
        response: { 200: EffectivePolicyView, ...errorResponses },
      },
    },
    async (request) => {
      const host = await db.host.findUnique({ where: { id: request.params.id } });
      if (!host) throw notFound("host", request.params.id);
      const entry = await fleetEntryOf(db, host);
      const policy = entry.policy;
      return {
        hostId: host.id,
        policy: policy ? { id: policy.governing.id, name: policy.governing.name } : null,
        version: agentPolicy(host.id, policy, entry.repositoryName).version,
        effective: policy
          ? {
              sources: policy.sources,
              schedule: policy.schedule,
              retention: policy.retention,
              repositoryId: policy.repositoryId,
              verification: policy.verification,
              scheduling: policy.scheduling,
            }
          : null,
        origins: policy?.origins ?? {},
      };
    },
  );

  app.post(
    "/hosts/:id/revoke",
    {
      config: { access: "operator", audit: { action: "host.revoke", targetKind: "host" } },
      schema: {
        summary: "Revoke a host's certificates and end its session",
        description:
          "Every certificate of the host is revoked and its open session stream ends at once; " +
          "the agent is refused from then on and must enroll again with a new token. " +
          "Revoking a revoked host changes nothing.",
        tags: ["hosts"],
        params: IdParams,
        response: { 200: HostRevocationView, ...errorResponses },
      },
    },
    async (request) => {
      try {
        const outcome = await revokeHost({ db, sessions }, request.params.id);
        const host = await db.host.findUniqueOrThrow({
          where: { id: outcome.hostId },
          include: WITH_CERTIFICATES,
        });
        const last = await lastBackupTimes(db, [host.id]);
        return {
          host: toSummary(host, last.get(host.id)),
          revokedCertificates: outcome.revokedCertificates,
          sessionClosed: outcome.sessionClosed,
        };
      } catch (err) {
        if (err instanceof HostNotFoundError) throw notFound("host", err.hostId);
        throw err;
      }
    },
  );
};
