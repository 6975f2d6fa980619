import type { Catalog } from "@pwdr/catalog";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import type { SessionRegistry } from "../session-registry.js";
import { type FleetFacts, FleetFactsReader, type HostFacts } from "./fleet-facts.js";

export interface ControllerMetricsOptions {
  db: Catalog;
  sessions: Pick<SessionRegistry, "list">;
  /**
   * A scrape within this long of the last one is answered from it (default 5 s):
   * two Prometheus servers scraping the same controller cost one catalog read.
   */
  reuseMs?: number;
  now?: () => Date;
}

const seconds = (date: Date) => date.getTime() / 1000;

/**
 * The controller's Prometheus metrics, in a registry of its own. Fleet
 * metrics are computed from the catalog when scraped; concurrent scrapes
 * share one read.
 */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly #facts: FleetFactsReader;
  readonly #sessions: Pick<SessionRegistry, "list">;
  readonly #reuseMs: number;
  readonly #now: () => Date;
  #pending: Promise<string> | undefined;
  #last: { at: number; text: string } | undefined;

  readonly #g = {
    sourceLastSuccess: this.#gauge(
      "pwdr_source_last_success_timestamp_seconds",
      "Unix time of the source's newest complete snapshot",
      ["host", "source", "kind"],
    ),
    sourceDuration: this.#gauge(
      "pwdr_source_last_backup_duration_seconds",
      "How long the source took in the host's newest backup run",
      ["host", "source", "kind"],
    ),
    sourceRead: this.#gauge(
      "pwdr_source_last_backup_read_bytes",
      "Bytes the source's backup read in the host's newest backup run",
      ["host", "source", "kind"],
    ),
    sourceAdded: this.#gauge(
      "pwdr_source_last_backup_added_bytes",
      "Bytes the source's backup added to the repository (after deduplication) in the newest run",
      ["host", "source", "kind"],
    ),
    sourceFailed: this.#gauge(
      "pwdr_source_last_backup_failed",
      "1 when the host's newest backup run did not back the source up, else 0",
      ["host", "source", "kind"],
    ),
    hostLastSuccess: this.#gauge(
      "pwdr_host_last_backup_success_timestamp_seconds",
      "Unix time of the host's newest complete recovery point",
      ["host"],
    ),
    hostDuration: this.#gauge(
      "pwdr_host_last_backup_duration_seconds",
      "Wall time of the host's newest finished backup run",
      ["host"],
    ),
    hostRead: this.#gauge(
      "pwdr_host_last_backup_read_bytes",
      "Bytes the host's newest finished backup run read",
      ["host"],
    ),
    hostAdded: this.#gauge(
      "pwdr_host_last_backup_added_bytes",
      "Bytes the host's newest finished backup run added to its repository",
      ["host"],
    ),
    hostState: this.#gauge(
      "pwdr_host_last_backup_succeeded",
      "1 when the host's newest finished backup run succeeded, 0 when it failed or was partial",
      ["host"],
    ),
    rpoBreached: this.#gauge(
      "pwdr_host_rpo_breached",
      "1 while the host's newest complete backup is older than its policy's RPO",
      ["host"],
    ),
    rpoBreachedSince: this.#gauge(
      "pwdr_host_rpo_breached_since_timestamp_seconds",
      "Unix time the host breached its RPO (only for hosts in breach)",
      ["host"],
    ),
    certificateExpiry: this.#gauge(
      "pwdr_agent_certificate_expiry_timestamp_seconds",
      "Unix time the host's newest unrevoked agent certificate expires",
      ["host"],
    ),
    hosts: this.#gauge("pwdr_hosts", "Hosts by state", ["state"]),
    sessions: this.#gauge("pwdr_agent_sessions_open", "Agent sessions open on this controller", []),
    jobs: this.#gauge("pwdr_jobs", "Jobs not finished yet, by state", ["state"]),
    due: this.#gauge("pwdr_scheduler_due_jobs", "Pending jobs whose scheduled time has come", []),
    oldestDue: this.#gauge(
      "pwdr_scheduler_oldest_due_job_age_seconds",
      "How long the oldest due pending job has waited past its scheduled time (0 when none)",
      [],
    ),
    drRuns: this.#gauge("pwdr_dr_runs", "DR runs by kind and state", ["kind", "state"]),
    drRto: this.#gauge(
      "pwdr_dr_last_rto_seconds",
      "Recovery time achieved by the newest succeeded DR run of the kind",
      ["kind"],
    ),
    drRpo: this.#gauge(
      "pwdr_dr_last_rpo_seconds",
      "Age of the recovery point the newest succeeded DR run of the kind restored",
      ["kind"],
    ),
    readSeconds: this.#gauge(
      "pwdr_metrics_catalog_read_seconds",
      "How long the last scrape's catalog queries took",
      [],
    ),
  };

  readonly #backupFailures = new Counter({
    name: "pwdr_host_backup_failures_total",
    help: "Backup runs of the host that failed or were partial, as recorded in the catalog",
    labelNames: ["host", "state"],
    registers: [this.registry],
  });

  constructor(options: ControllerMetricsOptions) {
    this.#facts = new FleetFactsReader(options.db);
    this.#sessions = options.sessions;
    this.#reuseMs = options.reuseMs ?? 5_000;
    this.#now = options.now ?? (() => new Date());
    collectDefaultMetrics({ register: this.registry, prefix: "pwdr_controller_" });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; concurrent calls share one catalog read. */
  render(): Promise<string> {
    const now = this.#now();
    if (this.#last && now.getTime() - this.#last.at < this.#reuseMs) return Promise.resolve(this.#last.text);
    this.#pending ??= this.#render(now).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #render(now: Date): Promise<string> {
    const started = performance.now();
    const facts = await this.#facts.read(now);
    const readSeconds = (performance.now() - started) / 1000;
    this.#apply(facts, now);
    this.#g.readSeconds.set(readSeconds);
    const text = await this.registry.metrics();
    this.#last = { at: now.getTime(), text };
    return text;
  }

  #gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  #apply(facts: FleetFacts, now: Date): void {
    for (const gauge of Object.values(this.#g)) gauge.reset();
    this.#backupFailures.reset();
    // Decommissioned hosts are out of the fleet: no series, only their count.
    const active = new Map(facts.hosts.filter((h) => h.state !== "decommissioned").map((h) => [h.id, h]));
    this.#hostSeries(facts, active);
    this.#sourceSeries(facts, active);
    this.#fleetSeries(facts, now);
  }

  #hostSeries(facts: FleetFacts, active: Map<string, HostFacts>): void {
    const g = this.#g;
    for (const host of active.values()) {
      const labels = { host: host.name };
      g.rpoBreached.set(labels, host.rpoBreachedSince ? 1 : 0);
      if (host.rpoBreachedSince) g.rpoBreachedSince.set(labels, seconds(host.rpoBreachedSince));
      const success = facts.hostSuccess.get(host.id);
      if (success) g.hostLastSuccess.set(labels, seconds(success));
      const expiry = facts.certificateExpiry.get(host.id);
      if (expiry) g.certificateExpiry.set(labels, seconds(expiry));
      const run = facts.latestBackups.get(host.id);
      if (!run) continue;
      g.hostDuration.set(labels, run.durationSeconds);
      g.hostRead.set(labels, run.readBytes);
      g.hostAdded.set(labels, run.addedBytes);
      g.hostState.set(labels, run.state === "succeeded" ? 1 : 0);
    }
    for (const f of facts.backupFailures) {
      const host = active.get(f.hostId);
      if (host) this.#backupFailures.inc({ host: host.name, state: f.state }, f.count);
    }
  }

  /**
   * A source appears once it had a complete snapshot or was in the host's
   * newest run. It counts as failed in that run when the run reported it
   * failed, or failed as a whole without reaching it.
   */
  #sourceSeries(facts: FleetFacts, active: Map<string, HostFacts>): void {
    const g = this.#g;
    const kindOf = new Map<string, string>();
    for (const s of facts.sourceSuccess) {
      const host = active.get(s.hostId);
      if (!host) continue;
      kindOf.set(`${s.hostId}\0${s.source}`, s.kind);
      const labels = { host: host.name, source: s.source, kind: s.kind };
      g.sourceLastSuccess.set(labels, seconds(s.time));
      const run = facts.latestBackups.get(s.hostId);
      if (run && !run.sources.some((r) => r.name === s.source))
        g.sourceFailed.set(labels, run.state === "failed" ? 1 : 0);
    }
    for (const run of facts.latestBackups.values()) {
      const host = active.get(run.hostId);
      if (!host) continue;
      for (const s of run.sources) {
        const kind = kindOf.get(`${run.hostId}\0${s.name}`) ?? s.kind;
        const labels = { host: host.name, source: s.name, kind };
        g.sourceFailed.set(labels, s.ok ? 0 : 1);
        if (s.durationSeconds !== undefined) g.sourceDuration.set(labels, s.durationSeconds);
        if (s.readBytes !== undefined) g.sourceRead.set(labels, s.readBytes);
        if (s.addedBytes !== undefined) g.sourceAdded.set(labels, s.addedBytes);
      }
    }
  }

  #fleetSeries(facts: FleetFacts, now: Date): void {
    const g = this.#g;
    const hostStates = new Map<string, number>();
    for (const h of facts.hosts) hostStates.set(h.state, (hostStates.get(h.state) ?? 0) + 1);
    for (const [state, count] of hostStates) g.hosts.set({ state }, count);
    g.sessions.set(this.#sessions.list().length);
    for (const j of facts.jobsByState) g.jobs.set({ state: j.state }, j.count);
    g.due.set(facts.due.count);
    g.oldestDue.set(facts.due.oldest ? Math.max(0, seconds(now) - seconds(facts.due.oldest)) : 0);
    for (const r of facts.drRuns) g.drRuns.set({ kind: r.kind, state: r.state }, r.count);
    for (const r of facts.drLast) {
      if (r.rtoMs !== null) g.drRto.set({ kind: r.kind }, r.rtoMs / 1000);
      if (r.rpoMs !== null) g.drRpo.set({ kind: r.kind }, r.rpoMs / 1000);
    }
  }
}
