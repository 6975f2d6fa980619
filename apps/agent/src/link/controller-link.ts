import { EventEmitter } from "node:events";
import { mkdir } from "node:fs/promises";
import type { Logger } from "@pwdr/logging";
import type { AgentPolicy, ControllerMessage, JobResult } from "@pwdr/protocol";
import type { AgentIdentity } from "../agent-identity.js";
import type { AgentConfig } from "../config/agent-config.js";
import { Journal, type RunRecord } from "../daemon/journal.js";
import { type AgentLinkState, SessionClient } from "../session-client.js";
import { hostInventory } from "./discovered-sources.js";
import type { JobExecutor } from "./job-executor.js";
import { JobQueue } from "./job-queue.js";
import { Outbox } from "./outbox.js";
import { schedulesOfConfig, schedulesOfPolicy } from "./policy-schedule.js";
import { PolicyScheduler } from "./policy-scheduler.js";
import { PolicyStore } from "./policy-store.js";

export interface ControllerLinkOptions {
  identity: AgentIdentity;
  /** The enrolled data dir: identity, and the disk whose free space Hello reports. */
  dataDir: string;
  /** Journal, outbox, policy and job locks. */
  stateDir: string;
  /** Absent for `pwdr-agent run` without -c: no sources, no schedules, every job refused. */
  config?: AgentConfig;
  executor: JobExecutor;
  labels?: Record<string, string>;
  /** At start-up, how long the controller has to connect before a policy's missed slots run here. */
  catchUpGraceMs: number;
  log: Logger;
  onStarted?: (record: RunRecord) => void;
  onFinished?: (record: RunRecord) => void;
  progressIntervalMs?: number;
}

/**
 * The agent's side of the controller link: holds the session, runs the
 * controller's jobs and its policy's schedules through one queue, keeps
 * every result in the outbox until the controller acknowledges it, and
 * replays the outbox after each Welcome. Emits "refused" (SessionRefusal)
 * when the controller no longer accepts this agent's certificate.
 */
export class ControllerLink extends EventEmitter {
  readonly journal: Journal;
  readonly outbox: Outbox;
  readonly #policies: PolicyStore;
  readonly #queue: JobQueue;
  readonly #scheduler: PolicyScheduler;
  #session: SessionClient | undefined;
  #policy: AgentPolicy | undefined;
  #inbox: Promise<void> = Promise.resolve();
  #grace: NodeJS.Timeout | undefined;

  constructor(private readonly options: ControllerLinkOptions) {
    super();
    const { stateDir, log } = options;
    this.journal = new Journal(stateDir);
    this.outbox = new Outbox(stateDir, log);
    this.#policies = new PolicyStore(stateDir, log);
    this.#queue = new JobQueue({
      stateDir,
      journal: this.journal,
      executor: options.executor,
      log,
      accepted: (jobId, runId) => this.#session?.send({ case: "accepted", value: { jobId, runId } }),
      progress: (value) => this.#session?.send({ case: "progress", value }),
      report: (result) => this.#report(result),
      reported: (runId) => this.outbox.has(runId),
      ...(options.config ? { retry: options.config.retry } : {}),
      ...(options.onStarted ? { onStarted: options.onStarted } : {}),
      ...(options.onFinished ? { onFinished: options.onFinished } : {}),
      ...(options.progressIntervalMs !== undefined ? { progressIntervalMs: options.progressIntervalMs } : {}),
    });
    this.#scheduler = new PolicyScheduler({
      connected: () => this.connected,
      submit: (job, trigger) =>
        this.#serial(() => this.#queue.submit({ job, locallyScheduled: true, trigger })),
      log,
    });
  }

  get connected(): boolean {
    return this.#session?.connected ?? false;
  }

  get policyVersion(): string {
    return this.#policy?.version ?? "";
  }

  async start(): Promise<void> {
    const { options } = this;
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    this.#policy = await this.#policies.load();
    const configEntries = options.config ? schedulesOfConfig(options.config) : [];
    // Without a config there is nothing to run, so a stored policy is kept but not followed.
    const entries = !options.config ? [] : this.#policy ? schedulesOfPolicy(this.#policy) : configEntries;
    this.#scheduler.replace(entries);
    await this.#queue.reportAbandoned();
    const runs = await this.journal.runs();
    const { config } = options;
    this.#session = new SessionClient({
      identity: options.identity,
      dataDir: options.dataDir,
      ...(config ? { inventory: async () => hostInventory(config, await this.journal.runs()) } : {}),
      state: () => this.#state(),
      log: options.log,
      ...(options.labels ? { labels: options.labels } : {}),
    });
    this.#session.on("welcome", () => this.#serial(() => this.#replay()));
    this.#session.on("message", (m: ControllerMessage) => this.#serial(() => this.#handle(m)));
    this.#session.on("refused", (refusal) => this.emit("refused", refusal));
    this.#session.start();
    // The config's schedules are the agent's own (the controller does not know them): caught up at once.
    // A policy's slots are the controller's while it is connected: caught up here only if it is not.
    if (!this.#policy) this.#scheduler.catchUp(configEntries, runs, new Date());
    else if (options.config) {
      this.#grace = setTimeout(() => {
        if (!this.connected) void this.#catchUpPolicy();
      }, options.catchUpGraceMs);
    }
    options.log.info("controller link started", {
      session: options.identity.sessionAddress,
      hostId: options.identity.hostId,
      policyVersion: this.policyVersion || undefined,
      schedules: entries.map((e) => `${e.name} "${e.cron}"`),
      configured: options.config !== undefined,
    });
  }

  /** No new runs; the running job gets `graceMs`; the session closes last, after the final results went out. */
  async stop(graceMs: number): Promise<boolean> {
    clearTimeout(this.#grace);
    this.#scheduler.stop();
    const graceful = await this.#queue.stop(graceMs);
    await this.#inbox;
    this.#session?.stop();
    return graceful;
  }

  async #catchUpPolicy(): Promise<void> {
    const policy = this.#policy;
    if (!policy) return;
    this.#scheduler.catchUp(schedulesOfPolicy(policy), await this.journal.runs(), new Date());
  }

  #serial(work: () => Promise<void>): void {
    this.#inbox = this.#inbox
      .then(work)
      .catch((err) => this.options.log.error("controller message not handled", { reason: String(err) }));
  }

  async #handle(message: ControllerMessage): Promise<void> {
    const { body } = message;
    switch (body.case) {
      case "job":
        await this.#queue.submit({ job: body.value, locallyScheduled: false, trigger: "controller" });
        return;
      case "cancel":
        await this.#queue.cancel(body.value.jobId, body.value.reason);
        return;
      case "policyUpdate":
        if (body.value.policy) await this.#adopt(body.value.policy);
        return;
      case "resultAck":
        await this.outbox.ack(body.value.runId);
        return;
      default:
        return;
    }
  }

  async #adopt(policy: AgentPolicy): Promise<void> {
    await this.#policies.save(policy);
    this.#policy = policy;
    const entries = this.options.config ? schedulesOfPolicy(policy) : [];
    this.#scheduler.replace(entries);
    this.options.log.info("policy updated", {
      version: policy.version,
      schedules: entries.map((e) => `${e.name} "${e.cron}"`),
    });
  }

  /** Durable first: a result the session loses is still in the outbox for the next Welcome. */
  async #report(result: JobResult): Promise<void> {
    await this.outbox.put(result);
    this.#session?.send({ case: "result", value: result });
  }

  async #replay(): Promise<void> {
    const pending = await this.outbox.pending();
    if (pending.length === 0) return;
    this.options.log.info("replaying results the controller has not acknowledged", { count: pending.length });
    for (const result of pending) this.#session?.send({ case: "result", value: result });
  }

  async #state(): Promise<AgentLinkState> {
    return {
      policyVersion: this.policyVersion,
      runningJobIds: this.#queue.runningJobIds(),
      outboxPending: await this.outbox.count(),
    };
  }
}
