// Missing-backup detection: a host whose last successful backup is older
// than its policy's RPO is flagged (Host.rpoBreachedSince) until one lands.
import type { Catalog, Host } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { recordAuditEvent } from "../audit-log.js";
import { parseDuration } from "../duration.js";
import type { FleetHost } from "./fleet-view.js";

const ACTOR = "system:scheduler";

/** A host entered or left RPO breach; reported once per change (the flag is set conditionally). */
export interface RpoChange {
  host: Host;
  rpo: string | null;
  lastBackupAt: Date | null;
  /** Set when the host entered breach, null when it left it. */
  breachedSince: Date | null;
}

/** The time of each host's newest complete recovery point. */
export async function lastBackupTimes(db: Catalog, hostIds?: string[]): Promise<Map<string, Date>> {
  const rows = await db.recoveryPoint.groupBy({
    by: ["hostId"],
    where: { status: "complete", ...(hostIds ? { hostId: { in: hostIds } } : {}) },
    _max: { time: true },
  });
  return new Map(rows.flatMap((r) => (r._max.time ? [[r.hostId, r._max.time] as const] : [])));
}

/** When the host breached (or undefined while it does not): its last backup (or enrollment) plus the RPO. */
export function breachTime(entry: FleetHost, lastBackup: Date | undefined, now: Date): Date | undefined {
  const rpo = entry.policy?.scheduling.rpo;
  if (!rpo) return undefined;
  const since = (lastBackup ?? entry.host.createdAt).getTime() + parseDuration(rpo, "rpo");
  return since < now.getTime() ? new Date(since) : undefined;
}

async function transition(
  db: Catalog,
  log: Logger,
  entry: FleetHost,
  breachedSince: Date | undefined,
  lastBackup?: Date,
  onChange?: (change: RpoChange) => void,
) {
  const { host } = entry;
  const changed = await db.host.updateMany({
    where: { id: host.id, rpoBreachedSince: breachedSince ? null : { not: null } },
    data: { rpoBreachedSince: breachedSince ?? null },
  });
  if (changed.count === 0) return;
  const details = {
    state: breachedSince ? "breached" : "cleared",
    rpo: entry.policy?.scheduling.rpo ?? null,
    lastBackupAt: lastBackup?.toISOString() ?? null,
    ...(breachedSince ? { breachedSince: breachedSince.toISOString() } : {}),
  };
  if (breachedSince)
    log.warn("host missed its RPO: no successful backup recently enough", {
      hostId: host.id,
      host: host.name,
      ...details,
    });
  else log.info("host is within its RPO again", { hostId: host.id, host: host.name, ...details });
  await recordAuditEvent(db, { actor: ACTOR, action: "host.rpo-breach", target: `host:${host.id}`, details });
  onChange?.({
    host,
    rpo: entry.policy?.scheduling.rpo ?? null,
    lastBackupAt: lastBackup ?? null,
    breachedSince: breachedSince ?? null,
  });
}

/** Sets or clears the RPO flag of every host whose state changed; audits each change. */
export async function checkRpo(
  db: Catalog,
  log: Logger,
  hosts: Iterable<FleetHost>,
  now: Date,
  onChange?: (change: RpoChange) => void,
): Promise<void> {
  // Only hosts with an RPO, or with a flag to clear, need looking at.
  const entries = [...hosts].filter((e) => e.policy?.scheduling.rpo || e.host.rpoBreachedSince);
  if (entries.length === 0) return;
  const last = await lastBackupTimes(db);
  for (const entry of entries) {
    const lastBackup = last.get(entry.host.id);
    const since = breachTime(entry, lastBackup, now);
    if (Boolean(since) !== Boolean(entry.host.rpoBreachedSince))
      await transition(db, log, entry, since, lastBackup, onChange);
  }
}
