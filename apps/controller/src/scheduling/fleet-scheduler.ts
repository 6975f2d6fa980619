// The fleet scheduler: on every tick it creates the jobs policies owe, flags
// RPO breaches and dispatches due jobs; sessions and job creators nudge it
// to dispatch at once. All its state is in the catalog.
import type { Catalog, Job } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { Hello } from "@pwdr/protocol";
import type { HostRepositories } from "../fleet-storage/host-repositories.js";
import type { LiveSession, SessionHooks, SessionRegistry } from "../session-registry.js";
import { agentPolicy } from "./agent-policy.js";
import { runControllerJob, runsOnController } from "./controller-jobs.js";
import { type ConcurrencyLimits, DEFAULT_LIMITS } from "./dispatch-load.js";
import { dispatchDue, IN_FLIGHT_STATES } from "./dispatcher.js";
import { type FleetHost, loadFleet } from "./fleet-view.js";
import { createDueJobs } from "./job-creation.js";
import { failOverdueJobs } from "./overdue-jobs.js";
import { checkRpo, type RpoChange } from "./rpo.js";

export const DEFAULT_SCHEDULER_INTERVAL_MS = 5_000;

export interface FleetSchedulerOptions {
  db: Catalog;
  sessions: SessionRegistry;
  repositories: HostRepositories;
  log: Logger;
  /** How often schedules, RPOs and due jobs are looked at (default 5 s). */
  intervalMs?: number;
  limits?: Partial<ConcurrencyLimits>;
  /** More work on each tick's view of the fleet (the scheduled fleet drills). */
  onTick?: (hosts: FleetHost[], now: Date) => Promise<void>;
  /** Called when a host enters or leaves RPO breach (notifications). */
  onRpoChange?: (change: RpoChange) => void;
}

/** Runs `work` one at a time; a call while it runs asks for one more run afterwards. */
class SingleFlight {
  #running: Promise<void> | undefined;
  #again = false;

  constructor(private readonly work: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        await this.work();
      } while (this.#again);
    })().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }
}

export class FleetScheduler implements SessionHooks {
  readonly #options: FleetSchedulerOptions;
  readonly #limits: ConcurrencyLimits;
  readonly #ensured = new Map<string, string>();
  /** The policy version each connected host holds, as its Hello said or as last sent. */
  readonly #policyVersions = new Map<string, string>();
  readonly #controllerJobs = new Set<Promise<void>>();
  readonly #dispatch = new SingleFlight(() => this.#dispatchPass());
  readonly #tick = new SingleFlight(() => this.#tickPass());
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: FleetSchedulerOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_LIMITS, ...options.limits };
  }

  start(): void {
    this.#stopped = false;
    const interval = this.#options.intervalMs ?? DEFAULT_SCHEDULER_INTERVAL_MS;
    this.#timer = setInterval(() => void this.tick(), interval);
    void this.#requeueInterruptedControllerJobs().then(() => this.tick());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.all([this.#tick.idle(), this.#dispatch.idle(), ...this.#controllerJobs]);
  }

  /** Creates owed jobs, checks RPOs and dispatches; concurrent calls coalesce. */
  tick(): Promise<void> {
    return this.#stopped ? Promise.resolve() : this.#tick.run();
  }

  /** Dispatches due jobs soon; call it after creating a job or when a job finished. */
  dispatchSoon(): void {
    if (!this.#stopped) void this.#dispatch.run();
  }

  /** Resolves once the dispatch running now (if any) and any it asked for are done. */
  async dispatchNow(): Promise<void> {
    if (!this.#stopped) await this.#dispatch.run();
  }

  async helloed(session: LiveSession, hello: Hello): Promise<void> {
    this.#policyVersions.set(session.hostId, hello.policyVersion);
    const fleet = await loadFleet(this.#options.db, { hostIds: [session.hostId] });
    const entry = fleet.hosts.get(session.hostId);
    if (!entry) return;
    this.#sendPolicy(session, entry);
    await this.#requeueLost(entry, hello.runningJobIds);
    this.dispatchSoon();
  }

  async ended(session: LiveSession): Promise<void> {
    this.#policyVersions.delete(session.hostId);
    // Sent but never accepted: the agent did not get it, or got it and will say so in its next Hello.
    const { count } = await this.#options.db.job.updateMany({
      where: { hostId: session.hostId, state: "dispatched" },
      data: { state: "pending", attempt: { decrement: 1 }, dispatchedAt: null },
    });
    if (count > 0)
      this.#options.log.info("re-queued jobs of a closed session", { hostId: session.hostId, count });
  }

  /** After a policy was created, changed or deleted: pushes the new policy to connected hosts it changed for. */
  async policiesChanged(): Promise<void> {
    const open = this.#options.sessions.list();
    if (open.length === 0) return;
    const fleet = await loadFleet(this.#options.db, { hostIds: open.map((s) => s.hostId) });
    for (const session of open) {
      const entry = fleet.hosts.get(session.hostId);
      if (entry) this.#sendPolicy(session, entry);
    }
  }

  #sendPolicy(session: LiveSession, entry: FleetHost): void {
    const policy = agentPolicy(entry.host.id, entry.policy, entry.repositoryName);
    if (this.#policyVersions.get(session.hostId) === policy.version) return;
    if (session.send({ case: "policyUpdate", value: { policy } }))
      this.#policyVersions.set(session.hostId, policy.version);
  }

  /**
   * Jobs the catalog has in flight on the host that its Hello does not list
   * go back to pending: re-sending is safe, since an agent answers a job it
   * finished with the stored result. The attempt is handed back, so the
   * re-delivery carries the same attempt number: a higher one would tell the
   * agent to run the job again (that is a retry, decided by its result).
   */
  async #requeueLost(entry: FleetHost, running: string[]): Promise<void> {
    const jobs = await this.#options.db.job.findMany({
      where: { hostId: entry.host.id, state: { in: IN_FLIGHT_STATES }, id: { notIn: running } },
      select: { id: true, kind: true },
    });
    const lost = jobs.filter((j) => !runsOnController(j, entry)).map((j) => j.id);
    if (lost.length === 0) return;
    await this.#options.db.job.updateMany({
      where: { id: { in: lost }, state: { in: IN_FLIGHT_STATES } },
      data: { state: "pending", attempt: { decrement: 1 }, dispatchedAt: null },
    });
    this.#options.log.info("re-queued jobs the agent is not running", {
      hostId: entry.host.id,
      jobIds: lost,
    });
  }

  // A controller that stopped during a controller-side prune left it running; prune
  // is safe to repeat. Assumes one scheduler per catalog (leader election is for later).
  async #requeueInterruptedControllerJobs(): Promise<void> {
    const running = await this.#options.db.job.findMany({ where: { state: "running", kind: "prune" } });
    if (running.length === 0) return;
    const fleet = await loadFleet(this.#options.db, { hostIds: running.map((j) => j.hostId) });
    const ids = running.filter((j) => {
      const entry = fleet.hosts.get(j.hostId);
      return entry && runsOnController(j, entry);
    });
    await this.#options.db.job.updateMany({
      where: { id: { in: ids.map((j) => j.id) }, state: "running" },
      data: { state: "pending" },
    });
  }

  async #tickPass(): Promise<void> {
    const { db, log } = this.#options;
    try {
      const now = new Date();
      const fleet = await loadFleet(db);
      const created = await createDueJobs(db, fleet.hosts.values(), now, this.#ensured);
      if (created > 0) log.info("scheduled jobs created", { count: created });
      await checkRpo(db, log, fleet.hosts.values(), now, this.#options.onRpoChange);
      await failOverdueJobs(db, this.#options.sessions, log, now);
      await this.#options.onTick?.([...fleet.hosts.values()], now);
    } catch (err) {
      log.error("scheduler tick failed", { error: String(err) });
    }
    await this.#dispatch.run();
  }

  async #dispatchPass(): Promise<void> {
    const { db, sessions, log } = this.#options;
    try {
      await dispatchDue(
        {
          db,
          sessions,
          log,
          limits: this.#limits,
          runOnController: (job, attempt) => this.#runOnController(job, attempt),
        },
        new Date(),
      );
    } catch (err) {
      log.error("job dispatch failed", { error: String(err) });
    }
  }

  #runOnController(job: Job, attempt: number): void {
    const { db, repositories, log } = this.#options;
    const done = runControllerJob({ db, repositories, log }, job, attempt)
      .catch((err: unknown) => log.error("controller-side job failed", { jobId: job.id, error: String(err) }))
      .finally(() => {
        this.#controllerJobs.delete(done);
        // Its concurrency slot is free now.
        this.dispatchSoon();
      });
    this.#controllerJobs.add(done);
  }
}
