// The end of a host restore: the replacement becomes the failed host in the
// catalog. The failed host's row stays (jobs, runs, recovery points,
// snapshots, audit targets and DR runs all point at it), so its history and
// the policies matching its labels carry on; what moves is the replacement's
// identity on the wire: its certificates.
import * as grpc from "@grpc/grpc-js";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { CERTIFICATE_REVOKED } from "../agent-certificates.js";
import { recordAuditEvent } from "../audit-log.js";
import type { SessionRegistry } from "../session-registry.js";

export interface TakeOverReport {
  failedHostId: string;
  replacementHostId: string;
  /** The replacement's certificates, now the failed host's. */
  movedCertificates: number;
  /** The failed host's own certificates, revoked. */
  revokedCertificates: number;
  /** False when a crash interrupted this step after the catalog changed: nothing was done twice. */
  changedNow: boolean;
  /** The replacement's stream was ended so its agent reconnects as the failed host. */
  replacementReconnects: boolean;
}

interface Deps {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
}

/**
 * In one transaction: revoke the failed host's certificates, move the
 * replacement's certificates to the failed host, give the failed host the
 * replacement's facts and agent version, mark the replacement's temporary row
 * decommissioned (it keeps its name, labels and the DR jobs it ran). Then end
 * both hosts' streams: the failed host's old agent is refused from now on, and
 * the replacement's agent reconnects with the same certificate and is
 * welcomed as the failed host (Welcome.host_id). Safe to run again: a
 * decommissioned replacement means the catalog part is done.
 */
export async function takeOver(
  deps: Deps,
  run: { id: string; failedHostId: string; replacementHostId: string },
  now = new Date(),
): Promise<TakeOverReport> {
  const { db, sessions, log } = deps;
  const { failedHostId, replacementHostId } = run;
  const counts = await db.$transaction(async (tx) => {
    const replacement = await tx.host.findUniqueOrThrow({ where: { id: replacementHostId } });
    if (replacement.state === "decommissioned") return undefined;
    const revoked = await tx.agentCertificate.updateMany({
      where: { hostId: failedHostId, revokedAt: null },
      data: { revokedAt: now },
    });
    const moved = await tx.agentCertificate.updateMany({
      where: { hostId: replacementHostId },
      data: { hostId: failedHostId },
    });
    await tx.host.update({
      where: { id: failedHostId },
      data: {
        state: "offline",
        facts: replacement.facts ?? {},
        agentVersion: replacement.agentVersion,
        lastSeenAt: replacement.lastSeenAt,
      },
    });
    await tx.host.update({ where: { id: replacementHostId }, data: { state: "decommissioned" } });
    return { moved: moved.count, revoked: revoked.count };
  });
  sessions.closeHost(failedHostId, CERTIFICATE_REVOKED.code, CERTIFICATE_REVOKED.reason);
  const replacementReconnects = sessions.closeHost(
    replacementHostId,
    grpc.status.UNAVAILABLE,
    `this agent took over host ${failedHostId} in a DR run; reconnect to be welcomed as that host`,
  );
  const report: TakeOverReport = {
    failedHostId,
    replacementHostId,
    movedCertificates: counts?.moved ?? 0,
    revokedCertificates: counts?.revoked ?? 0,
    changedNow: counts !== undefined,
    replacementReconnects,
  };
  if (counts) {
    await recordAuditEvent(db, {
      actor: "system:dr",
      action: "dr.take-over",
      target: `host:${failedHostId}`,
      details: { runId: run.id, ...report },
    });
    log.info("DR take-over done", { runId: run.id, ...report });
  }
  return report;
}
