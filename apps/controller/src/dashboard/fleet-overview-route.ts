import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, HostState } from "@pwdr/catalog";
import { Type } from "typebox";
import { isoOrNull, Labels, OptionalTimestamp, Timestamp } from "../api/schemas/common.js";
import { errorResponses } from "../api/schemas/error.js";
import { HostState as HostStateSchema } from "../api/schemas/host.js";
import { lastBackupTimes } from "../scheduling/rpo.js";

/**
 * Agents renew at two thirds of their certificate's validity; one with less
 * than a quarter left has missed renewals and will drop off at expiry.
 */
export const RENEWAL_OVERDUE_FRACTION = 0.25;

const SourceView = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  lastSuccessAt: Timestamp,
});

const CertificateView = Type.Object({
  notAfter: Timestamp,
  expiringSoon: Type.Boolean({ description: "Less than a quarter of its validity left: renewal is overdue" }),
});

const OverviewHost = Type.Object({
  id: Type.String(),
  name: Type.String(),
  labels: Labels,
  site: Type.Union([Type.String(), Type.Null()]),
  state: HostStateSchema,
  lastSeenAt: OptionalTimestamp,
  lastBackupAt: OptionalTimestamp,
  rpoBreachedSince: OptionalTimestamp,
  sources: Type.Array(SourceView, { description: "Each source's newest complete snapshot" }),
  agentCertificate: Type.Union([CertificateView, Type.Null()], {
    description: "The host's newest valid agent certificate; null when none is (revoked or expired)",
  }),
  expiringConfigCertificates: Type.Integer({
    description: "Certificates the newest configuration backups found expiring within their warning window",
  }),
});

const FleetOverview = Type.Object({ hosts: Type.Array(OverviewHost) });

type CertRow = { notAfter: Date; createdAt: Date; revokedAt: Date | null };

function agentCertificate(certs: CertRow[], now: Date) {
  const valid = certs.filter((c) => !c.revokedAt && c.notAfter > now);
  const newest = valid.sort((a, b) => b.notAfter.getTime() - a.notAfter.getTime())[0];
  if (!newest) return null;
  const validity = newest.notAfter.getTime() - newest.createdAt.getTime();
  const left = newest.notAfter.getTime() - now.getTime();
  return {
    notAfter: newest.notAfter.toISOString(),
    expiringSoon: left < validity * RENEWAL_OVERDUE_FRACTION,
  };
}

async function lastSuccessBySource(db: Catalog) {
  const groups = await db.snapshot.groupBy({
    by: ["hostId", "sourceName", "sourceKind"],
    where: { status: "complete" },
    _max: { time: true },
    orderBy: { sourceName: "asc" },
  });
  const bySource = new Map<string, { name: string; kind: string; lastSuccessAt: string }[]>();
  for (const g of groups) {
    if (!g._max.time) continue;
    const list = bySource.get(g.hostId) ?? [];
    list.push({ name: g.sourceName, kind: g.sourceKind, lastSuccessAt: g._max.time.toISOString() });
    bySource.set(g.hostId, list);
  }
  return bySource;
}

async function expiringConfigCertificates(db: Catalog): Promise<Map<string, number>> {
  const newest = await db.snapshot.findMany({
    where: { sourceKind: "config", status: { not: "failed" } },
    orderBy: { time: "desc" },
    distinct: ["hostId", "sourceName"],
    select: { hostId: true, stats: true },
  });
  const counts = new Map<string, number>();
  for (const s of newest) {
    const n = (s.stats as { counts?: Record<string, number> } | null)?.counts?.["certificates:expiring"] ?? 0;
    counts.set(s.hostId, (counts.get(s.hostId) ?? 0) + n);
  }
  return counts;
}

/** The fleet at a glance, in one request: what the dashboard's first page shows. */
export const fleetOverviewRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/fleet/overview",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Hosts with their state, last success per source, RPO breach and certificate expiry",
        tags: ["hosts", "dashboard"],
        response: { 200: FleetOverview, ...errorResponses },
      },
    },
    async () => {
      const now = new Date();
      const hosts = await db.host.findMany({
        where: { state: { not: "decommissioned" } },
        orderBy: { name: "asc" },
        include: { certificates: { select: { notAfter: true, createdAt: true, revokedAt: true } } },
      });
      const [lastBackups, sources, configCerts] = await Promise.all([
        lastBackupTimes(
          db,
          hosts.map((h) => h.id),
        ),
        lastSuccessBySource(db),
        expiringConfigCertificates(db),
      ]);
      return {
        hosts: hosts.map((h) => ({
          id: h.id,
          name: h.name,
          labels: h.labels as Record<string, string>,
          site: h.site,
          state: h.state as HostState,
          lastSeenAt: isoOrNull(h.lastSeenAt),
          lastBackupAt: isoOrNull(lastBackups.get(h.id) ?? null),
          rpoBreachedSince: isoOrNull(h.rpoBreachedSince),
          sources: sources.get(h.id) ?? [],
          agentCertificate: agentCertificate(h.certificates, now),
          expiringConfigCertificates: configCerts.get(h.id) ?? 0,
        })),
      };
    },
  );
};
