import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { AuditEvent, Catalog } from "@pwdr/catalog";
import { Type } from "typebox";
import { AuditEventQuery, AuditEventView } from "../schemas/audit-event.js";
import { errorResponses } from "../schemas/error.js";

function toView(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    target: event.target,
    details: (event.details as Record<string, unknown> | null) ?? null,
  };
}

/** The audit trail, newest first, paged by id. */
export const auditEventRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/audit-events",
    {
      config: { access: "admin" },
      schema: {
        summary: "List audit events, newest first",
        tags: ["audit"],
        querystring: AuditEventQuery,
        response: { 200: Type.Object({ events: Type.Array(AuditEventView) }), ...errorResponses },
      },
    },
    async (request) => {
      const { limit, before, action, target } = request.query;
      const events = await db.auditEvent.findMany({
        where: {
          ...(before ? { id: { lt: before } } : {}),
          ...(action ? { action } : {}),
          ...(target ? { target } : {}),
        },
        orderBy: { id: "desc" },
        take: limit ?? 100,
      });
      return { events: events.map(toView) };
    },
  );
};
