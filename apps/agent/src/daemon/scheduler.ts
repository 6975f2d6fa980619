import { Cron } from "croner";
import type { JobName } from "../config/agent-config.js";
import type { RunTrigger } from "./journal.js";

export interface ScheduledJob {
  job: JobName;
  cron: string;
}

type Runner = (job: JobName, trigger: RunTrigger) => Promise<void>;

/**
 * Fires jobs on their cron schedules and runs them one at a time: a Pi has
 * little CPU and I/O to spare, and a backup and a prune never compete. A job
 * that fires while it is queued or running is skipped, not stacked.
 */
export class Scheduler {
  readonly #crons = new Map<JobName, Cron>();
  readonly #queue: { job: JobName; trigger: RunTrigger }[] = [];
  #running: { job: JobName; done: Promise<void> } | undefined;
  #stopped = false;

  constructor(
    private readonly jobs: readonly ScheduledJob[],
    private readonly run: Runner,
    private readonly onSkip: (job: JobName, why: string) => void,
  ) {}

  start(): void {
    for (const { job, cron } of this.jobs) {
      this.#crons.set(job, new Cron(cron, () => this.trigger(job, "schedule")));
    }
  }

  /** Queues a run unless the same job is already waiting or running. */
  trigger(job: JobName, trigger: RunTrigger): void {
    if (this.#stopped) return;
    const busy =
      this.#running?.job === job
        ? "the previous run is still going"
        : this.#queue.some((q) => q.job === job)
          ? "a run is already waiting"
          : undefined;
    if (busy) {
      this.onSkip(job, busy);
      return;
    }
    this.#queue.push({ job, trigger });
    this.#pump();
  }

  nextRun(job: JobName): Date | undefined {
    return this.#crons.get(job)?.nextRun() ?? undefined;
  }

  get running(): JobName | undefined {
    return this.#running?.job;
  }

  /** Stops firing and drops waiting runs; resolves when the running one (if any) ends. */
  stop(): Promise<void> {
    this.#stopped = true;
    for (const cron of this.#crons.values()) cron.stop();
    this.#queue.length = 0;
    return this.#running?.done ?? Promise.resolve();
  }

  #pump(): void {
    if (this.#running || this.#stopped) return;
    const next = this.#queue.shift();
    if (!next) return;
    const done = this.run(next.job, next.trigger).finally(() => {
      this.#running = undefined;
      this.#pump();
    });
    this.#running = { job: next.job, done };
  }
}

export function nextRunOf(cron: string, from: Date): Date | undefined {
  return new Cron(cron, { paused: true }).nextRun(from) ?? undefined;
}

/** When a job should have run last, after `since`, if that is before `now`: a run missed while the agent was down. */
export function missedRun(cron: string, since: Date, now: Date): Date | undefined {
  const next = new Cron(cron, { paused: true }).nextRun(since);
  return next && next < now ? next : undefined;
}
