import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, type Logger } from "@pwdr/logging";
import type { Repository } from "@pwdr/repo";
import type { FastifyInstance } from "fastify";
import type { AgentConfig, JobName } from "../config/agent-config.js";
import type { ControllerLink } from "../link/controller-link.js";
import { Journal, type RunRecord, type RunTrigger } from "./journal.js";
import type { AgentMetrics } from "./metrics.js";
import { openConfigRepository } from "./open-config-repository.js";
import { executeJob } from "./run-job.js";
import { missedRun, type ScheduledJob, Scheduler } from "./scheduler.js";

/** The scheduled jobs of a config, in the order they are listed there. */
export function scheduledJobs(config: AgentConfig): ScheduledJob[] {
  if (!config.schedules) return [];
  const { catchUp: _catchUp, ...crons } = config.schedules;
  return Object.entries(crons).flatMap(([job, cron]) => (cron ? [{ job: job as JobName, cron }] : []));
}

export interface DaemonOptions {
  /** Host labels reported to the controller. */
  labels?: Record<string, string>;
  /** The controller refused this agent's certificate: the link has stopped for good. */
  onRefused?: () => void;
}

/**
 * The agent's daemon: runs the config's schedules (one job at a time),
 * catches up runs missed while it was down, serves metrics, and on SIGTERM
 * lets a running job finish within the grace period or abandons it (the
 * repository stays valid: nothing is referenced until a snapshot is written).
 * With `controller` in the config the same runtime holds the controller link
 * instead of the local scheduler: the controller's jobs and policy, the outbox.
 */
export class Daemon {
  readonly #log: Logger;
  readonly #journal: Journal;
  /** Only with `metrics` in the config: the HTTP server and the registry cost memory a Pi may not spare. */
  #metrics: AgentMetrics | undefined;
  readonly #scheduler: Scheduler;
  #server: FastifyInstance | undefined;
  #current: RunRecord | undefined;
  #link: ControllerLink | undefined;

  constructor(
    private readonly config: AgentConfig,
    private readonly options: DaemonOptions = {},
  ) {
    this.#log = createLogger("agent", config.logLevel);
    this.#journal = new Journal(config.stateDir);
    this.#scheduler = new Scheduler(
      scheduledJobs(config),
      (job, trigger) => this.#run(job, trigger),
      (job, why) => this.#log.warn("scheduled run skipped", { job, why }),
    );
  }

  async start(): Promise<void> {
    await mkdir(this.config.stateDir, { recursive: true, mode: 0o700 });
    await writeFile(this.#pidFile, `${process.pid}\n`, { mode: 0o600 });
    if (this.config.metrics) {
      const { AgentMetrics, serveMetrics } = await import("./metrics.js");
      this.#metrics = new AgentMetrics();
      this.#server = await serveMetrics(this.#metrics, this.config.metrics.port);
    }
    if (this.config.controller) {
      await this.#startLink(this.config.controller);
      return;
    }
    this.#scheduler.start();
    await this.#catchUp();
    const next = scheduledJobs(this.config).map(({ job }) => ({
      job,
      next: this.#scheduler.nextRun(job)?.toISOString(),
    }));
    this.#log.info("agent daemon started", {
      pid: process.pid,
      schedules: next,
      metricsPort: this.config.metrics?.port,
    });
  }

  /** SIGTERM: no new runs; the running one gets `shutdownGraceMs`, then is recorded as abandoned. */
  async stop(): Promise<void> {
    if (this.#link) {
      const graceful = await this.#link.stop(this.config.shutdownGraceMs);
      await this.#closeDown(graceful);
      return;
    }
    const running = this.#scheduler.stop();
    const graceful = await Promise.race([
      running.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, this.config.shutdownGraceMs, false).unref()),
    ]);
    if (!graceful && this.#current) {
      const abandoned = {
        ...this.#current,
        status: "abandoned" as const,
        finishedAt: new Date().toISOString(),
        error: "stopped by SIGTERM before it finished; the repository is unchanged by it",
      };
      await this.#journal.write(abandoned);
      this.#log.warn("job abandoned at shutdown", { job: abandoned.job, run: abandoned.id });
    }
    await this.#closeDown(graceful);
  }

  async #closeDown(graceful: boolean): Promise<void> {
    await this.#server?.close();
    await rm(this.#pidFile, { force: true });
    this.#log.info("agent daemon stopped", { graceful });
  }

  async #startLink(controller: NonNullable<AgentConfig["controller"]>): Promise<void> {
    // Loaded on use: gRPC and the controller-facing modules are not needed without a controller.
    const { loadIdentity } = await import("../agent-identity.js");
    const { ControllerLink } = await import("../link/controller-link.js");
    const { configuredExecutor } = await import("../link/job-executor.js");
    const dataDir = controller.dataDir ?? this.config.stateDir;
    this.#link = new ControllerLink({
      identity: await loadIdentity(dataDir),
      dataDir,
      stateDir: this.config.stateDir,
      config: this.config,
      executor: configuredExecutor(this.config),
      catchUpGraceMs: controller.catchUpGraceMs,
      log: this.#log,
      ...(this.options.labels ? { labels: this.options.labels } : {}),
      onStarted: (record) => this.#metrics?.started(record.job),
      onFinished: (record) => void this.#measure(record),
    });
    if (this.options.onRefused) this.#link.once("refused", this.options.onRefused);
    await this.#link.start();
    this.#log.info("agent daemon started", { pid: process.pid, metricsPort: this.config.metrics?.port });
  }

  async #measure(record: RunRecord): Promise<void> {
    if (!this.#metrics) return;
    this.#metrics.finished(record);
    if (record.job === "backup" || record.job === "retention") await this.#measureRepository(this.#metrics);
  }

  get #pidFile(): string {
    return join(this.config.stateDir, "agent.pid");
  }

  async #catchUp(): Promise<void> {
    if (this.config.schedules?.catchUp === "skip") return;
    const now = new Date();
    const runs = await this.#journal.runs();
    for (const { job, cron } of scheduledJobs(this.config)) {
      const last = runs.filter((r) => r.job === job).at(-1);
      const missed = last ? missedRun(cron, new Date(last.startedAt), now) : undefined;
      if (!missed) continue;
      this.#log.info("catching up a missed run", { job, missed: missed.toISOString() });
      this.#scheduler.trigger(job, "catch-up");
    }
  }

  async #run(job: JobName, trigger: RunTrigger): Promise<void> {
    this.#metrics?.started(job);
    try {
      const record = await executeJob(job, {
        config: this.config,
        journal: this.#journal,
        trigger,
        log: this.#log,
        onStart: (r) => {
          this.#current = r;
        },
      });
      await this.#measure(record);
    } catch (err) {
      // The job lock is held by `pwdr-agent now` or another daemon: skip this round.
      this.#log.warn("scheduled run not started", { job, reason: (err as Error).message });
    } finally {
      this.#current = undefined;
    }
  }

  async #measureRepository(metrics: AgentMetrics): Promise<void> {
    let repo: Repository | undefined;
    try {
      repo = await openConfigRepository(this.config);
      metrics.repositorySize(await repositorySize(repo));
    } catch (err) {
      this.#log.warn("repository size not measured", { reason: (err as Error).message });
    } finally {
      await repo?.close();
    }
  }
}

async function repositorySize(repo: Repository): Promise<number> {
  let bytes = 0;
  for (const type of ["data", "index", "snapshots", "keys"] as const) {
    for await (const file of repo.backend.list(type)) bytes += file.size;
  }
  return bytes;
}
