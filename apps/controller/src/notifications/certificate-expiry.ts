import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { recordAuditEvent } from "../audit-log.js";
import type { CertificateEvent, EventSink } from "./controller-events.js";

export const CERTIFICATE_EXPIRING_ACTION = "host.certificate.expiring";
const ACTOR = "system:notifier";

// One statement's IN list: under the 999 bound parameters Prisma allows a SQLite statement.
const IDS_PER_QUERY = 900;

export interface CertificateExpiryOptions {
  db: Catalog;
  events: EventSink;
  log: Logger;
  /** Report a certificate this long before it expires (e.g. 14 days). */
  warningMs: number;
  /** How often to look (default 1 h); the first look is at start. */
  intervalMs?: number;
}

interface Candidate {
  id: string;
  serial: string;
  notAfter: Date;
  hostId: string;
  host: { name: string };
}

/**
 * Reports agent certificates about to expire that their agent did not renew
 * (agents renew at two thirds of the validity, so one still near expiry is a
 * renewal that failed). Only a host's newest unrevoked certificate counts: the
 * one a renewal replaced expires harmlessly. Each certificate is reported
 * once, even across restarts: the report is an audit event, looked for first.
 */
export class CertificateExpiryWatch {
  readonly #options: CertificateExpiryOptions;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(options: CertificateExpiryOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#options.intervalMs ?? 3_600_000);
    this.#timer.unref();
    void this.#tick();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping?.catch(() => undefined);
  }

  /** Reports the certificates newly within the warning; returns how many. */
  async sweep(now = new Date()): Promise<number> {
    const due = await this.#newest(await this.#expiring(now));
    const fresh = await this.#notReported(due);
    for (const cert of fresh) {
      await recordAuditEvent(this.#options.db, {
        actor: ACTOR,
        action: CERTIFICATE_EXPIRING_ACTION,
        target: `agent-certificate:${cert.id}`,
        details: { hostId: cert.hostId, serial: cert.serial, notAfter: cert.notAfter.toISOString() },
      });
      this.#options.events.publish(this.#event(cert, now));
    }
    return fresh.length;
  }

  #expiring(now: Date): Promise<Candidate[]> {
    return this.#options.db.agentCertificate.findMany({
      where: {
        revokedAt: null,
        notAfter: { gt: now, lte: new Date(now.getTime() + this.#options.warningMs) },
        host: { state: { not: "decommissioned" } },
      },
      select: { id: true, serial: true, notAfter: true, hostId: true, host: { select: { name: true } } },
    });
  }

  async #newest(candidates: Candidate[]): Promise<Candidate[]> {
    const hostIds = [...new Set(candidates.map((c) => c.hostId))];
    const newest = new Map<string, number>();
    for (let i = 0; i < hostIds.length; i += IDS_PER_QUERY) {
      const rows = await this.#options.db.agentCertificate.groupBy({
        by: ["hostId"],
        where: { hostId: { in: hostIds.slice(i, i + IDS_PER_QUERY) }, revokedAt: null },
        _max: { notAfter: true },
      });
      for (const r of rows) if (r._max.notAfter) newest.set(r.hostId, r._max.notAfter.getTime());
    }
    return candidates.filter((c) => newest.get(c.hostId) === c.notAfter.getTime());
  }

  async #notReported(certs: Candidate[]): Promise<Candidate[]> {
    const reported = new Set<string>();
    for (let i = 0; i < certs.length; i += IDS_PER_QUERY) {
      const rows = await this.#options.db.auditEvent.findMany({
        where: {
          action: CERTIFICATE_EXPIRING_ACTION,
          target: { in: certs.slice(i, i + IDS_PER_QUERY).map((c) => `agent-certificate:${c.id}`) },
        },
        select: { target: true },
      });
      for (const r of rows) if (r.target) reported.add(r.target);
    }
    return certs.filter((c) => !reported.has(`agent-certificate:${c.id}`));
  }

  #event(cert: Candidate, now: Date): CertificateEvent {
    return {
      type: "certificate.expiring",
      id: `certificate.expiring/${cert.id}`,
      at: now,
      host: { id: cert.hostId, name: cert.host.name },
      serial: cert.serial,
      notAfter: cert.notAfter,
    };
  }

  // A sweep slower than the interval is not stacked on.
  async #tick(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = this.sweep();
    try {
      const reported = await this.#sweeping;
      if (reported > 0) this.#options.log.warn("agent certificates near expiry reported", { reported });
    } catch (err) {
      this.#options.log.error("looking for expiring agent certificates failed", { error: String(err) });
    } finally {
      this.#sweeping = undefined;
    }
  }
}
