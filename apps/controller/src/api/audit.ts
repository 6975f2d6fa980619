import type { Catalog } from "@pwdr/catalog";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { recordAuditEvent } from "../audit-log.js";

/** What a mutating route audits: the verb and the kind of object it acts on. */
export interface RouteAudit {
  /** Dotted verb, e.g. "api-token.revoke". */
  action: string;
  /** Kind of the target, e.g. "api-token"; the id comes from the handler or the `:id` param. */
  targetKind: string;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set on every mutating route; the call is audited whatever its outcome. */
    audit?: RouteAudit;
  }
  interface FastifyRequest {
    /** Id of the object a create call made, for the audit row. */
    auditTargetId: string | null;
  }
}

type Outcome = "success" | "denied" | "rejected" | "failed";

function outcomeOf(status: number): Outcome {
  if (status < 400) return "success";
  if (status === 401 || status === 403) return "denied";
  return status < 500 ? "rejected" : "failed";
}

function errorCodeOf(payload: unknown): string | undefined {
  if (typeof payload !== "string") return undefined;
  try {
    return (JSON.parse(payload) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

function targetOf(request: FastifyRequest, kind: string): string {
  const params = request.params as { id?: string } | undefined;
  return `${kind}:${request.auditTargetId ?? params?.id ?? "-"}`;
}

async function auditCall(db: Catalog, request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  const audit = request.routeOptions.config.audit;
  if (!audit) return;
  const principal = request.principal;
  const errorCode = errorCodeOf(payload);
  await recordAuditEvent(db, {
    actor: principal ? `token:${principal.name}` : "anonymous",
    action: audit.action,
    target: targetOf(request, audit.targetKind),
    details: {
      outcome: outcomeOf(reply.statusCode),
      status: reply.statusCode,
      requestId: request.id,
      ...(principal ? { tokenId: principal.tokenId } : {}),
      ...(errorCode ? { errorCode } : {}),
    },
  });
}

async function auditPlugin(app: FastifyInstance, options: { db: Catalog }): Promise<void> {
  app.decorateRequest("auditTargetId", null);
  // onSend rather than onResponse: the row is written before the caller sees
  // the answer, so a client that got a reply can rely on the audit trail.
  app.addHook("onSend", async (request, reply, payload) => {
    await auditCall(options.db, request, reply, payload);
    return payload;
  });
}

/** Audits every call to a route that declares `config.audit`: who, what, on what, and the outcome. */
export default fp(auditPlugin, { name: "pwdr-audit" });
