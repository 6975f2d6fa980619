// What the metrics show, read from the catalog at scrape time: a restarted (or
// second) controller reports the same numbers. Every query is grouped, so the
// cost follows the number of queries, not the number of hosts.
import { type Catalog, DR_RUN_KINDS } from "@pwdr/catalog";
import { type BackupRun, LatestBackups } from "./latest-backups.js";

export interface HostFacts {
  id: string;
  name: string;
  state: string;
  rpoBreachedSince: Date | null;
}

export interface SourceSuccess {
  hostId: string;
  source: string;
  kind: string;
  time: Date;
}

export interface FleetFacts {
  hosts: HostFacts[];
  /** Newest complete snapshot per host and source. */
  sourceSuccess: SourceSuccess[];
  /** Newest complete recovery point per host id. */
  hostSuccess: Map<string, Date>;
  /** Newest finished backup run per host id. */
  latestBackups: Map<string, BackupRun>;
  /** Failed and partial backup runs per host id and state. */
  backupFailures: { hostId: string; state: string; count: number }[];
  /** notAfter of each host's newest unrevoked certificate. */
  certificateExpiry: Map<string, Date>;
  jobsByState: { state: string; count: number }[];
  /** Pending jobs whose time has come, and the oldest one's scheduledFor. */
  due: { count: number; oldest: Date | null };
  drRuns: { kind: string; state: string; count: number }[];
  /** The newest finished DR run of each kind that recorded an RTO. */
  drLast: { kind: string; rtoMs: number | null; rpoMs: number | null }[];
}

/** Jobs not yet finished: what the scheduler still has to move. */
const OPEN_JOB_STATES = ["pending", "dispatched", "running"];

export class FleetFactsReader {
  readonly #latestBackups: LatestBackups;

  constructor(private readonly db: Catalog) {
    this.#latestBackups = new LatestBackups(db);
  }

  async read(now: Date): Promise<FleetFacts> {
    const { db } = this;
    const [hosts, sourceSuccess, hostSuccess, latestBackups, backupFailures, certificateExpiry] =
      await Promise.all([
        db.host.findMany({ select: { id: true, name: true, state: true, rpoBreachedSince: true } }),
        this.#sourceSuccess(),
        this.#hostSuccess(),
        this.#latestBackups.load(),
        this.#backupFailures(),
        this.#certificateExpiry(),
      ]);
    const [jobsByState, due, drRuns, drLast] = await Promise.all([
      this.#jobsByState(),
      this.#due(now),
      this.#drRuns(),
      this.#drLast(),
    ]);
    return {
      hosts,
      sourceSuccess,
      hostSuccess,
      latestBackups,
      backupFailures,
      certificateExpiry,
      jobsByState,
      due,
      drRuns,
      drLast,
    };
  }

  async #sourceSuccess(): Promise<SourceSuccess[]> {
    const rows = await this.db.snapshot.groupBy({
      by: ["hostId", "sourceName", "sourceKind"],
      where: { status: "complete" },
      _max: { time: true },
    });
    return rows.flatMap((r) =>
      r._max.time ? [{ hostId: r.hostId, source: r.sourceName, kind: r.sourceKind, time: r._max.time }] : [],
    );
  }

  async #hostSuccess(): Promise<Map<string, Date>> {
    const rows = await this.db.recoveryPoint.groupBy({
      by: ["hostId"],
      where: { status: "complete" },
      _max: { time: true },
    });
    return new Map(rows.flatMap((r) => (r._max.time ? [[r.hostId, r._max.time] as const] : [])));
  }

  async #backupFailures() {
    const rows = await this.db.jobRun.groupBy({
      by: ["hostId", "state"],
      where: { state: { in: ["failed", "partial"] }, job: { kind: "backup" } },
      _count: { _all: true },
    });
    return rows.map((r) => ({ hostId: r.hostId, state: r.state, count: r._count._all }));
  }

  async #certificateExpiry(): Promise<Map<string, Date>> {
    const rows = await this.db.agentCertificate.groupBy({
      by: ["hostId"],
      where: { revokedAt: null },
      _max: { notAfter: true },
    });
    return new Map(rows.flatMap((r) => (r._max.notAfter ? [[r.hostId, r._max.notAfter] as const] : [])));
  }

  async #jobsByState() {
    const rows = await this.db.job.groupBy({
      by: ["state"],
      where: { state: { in: OPEN_JOB_STATES } },
      _count: { _all: true },
    });
    return rows.map((r) => ({ state: r.state, count: r._count._all }));
  }

  async #due(now: Date) {
    const row = await this.db.job.aggregate({
      where: { state: "pending", scheduledFor: { lte: now } },
      _count: { _all: true },
      _min: { scheduledFor: true },
    });
    return { count: row._count._all, oldest: row._min.scheduledFor };
  }

  async #drRuns() {
    const rows = await this.db.drRun.groupBy({ by: ["kind", "state"], _count: { _all: true } });
    return rows.map((r) => ({ kind: r.kind, state: r.state, count: r._count._all }));
  }

  // DR runs are few (operator actions and drills): one small query per kind.
  async #drLast() {
    const rows = await Promise.all(
      DR_RUN_KINDS.map((kind) =>
        this.db.drRun.findFirst({
          where: { kind, state: "succeeded", rtoMs: { not: null } },
          orderBy: { finishedAt: "desc" },
          select: { kind: true, rtoMs: true, rpoMs: true },
        }),
      ),
    );
    return rows.flatMap((r) => (r ? [r] : []));
  }
}
