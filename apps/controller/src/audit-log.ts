import type { Catalog, Prisma } from "@pwdr/catalog";

export interface AuditEntry {
  /** "token:<name>", "cli", … as in AuditEvent.actor. */
  actor: string;
  /** Dotted verb, e.g. "api-token.revoke". */
  action: string;
  target?: string | undefined;
  /** Never a secret: callers pass ids, names, outcomes and status codes only. */
  details?: Prisma.InputJsonObject;
}

export async function recordAuditEvent(db: Catalog, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      actor: entry.actor,
      action: entry.action,
      target: entry.target ?? null,
      ...(entry.details ? { details: entry.details } : {}),
    },
  });
}
