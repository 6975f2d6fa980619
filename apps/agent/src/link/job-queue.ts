import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { create, fromJson, type JsonValue, toJson } from "@bufbuild/protobuf";
import { timestampDate, timestampNow } from "@bufbuild/protobuf/wkt";
import type { Logger } from "@pwdr/logging";
import {
  type Job,
  type JobProgress,
  JobProgressSchema,
  type JobResult,
  JobResultSchema,
  JobSchema,
} from "@pwdr/protocol";
import { backoffDelayMs } from "../backoff.js";
import type { AgentConfig } from "../config/agent-config.js";
import { acquireJobLock } from "../daemon/job-lock.js";
import type { Journal, RunRecord, RunStatus, RunTrigger } from "../daemon/journal.js";
import { failureOf } from "./job-errors.js";
import type { JobExecutor } from "./job-executor.js";
import { kindOf, kindOfRecorded, recordedJobOf } from "./job-kind.js";
import { failed, type JobOutcome, type JobProgressUpdate, RunStopped } from "./job-outcome.js";
import { jobResultOf } from "./job-result.js";
import { ProgressCoalescer } from "./progress-coalescer.js";

export interface QueuedJob {
  job: Job;
  /** Started by the agent's own schedule (its policy or config), not dispatched by the controller. */
  locallyScheduled: boolean;
  trigger: RunTrigger;
}

export interface JobQueueOptions {
  stateDir: string;
  journal: Journal;
  executor: JobExecutor;
  log: Logger;
  /** JobAccepted for a dispatched job. */
  accepted: (jobId: string, runId: string) => void;
  progress: (progress: JobProgress) => void;
  /** Keeps a result durably, then sends it (the outbox). */
  report: (result: JobResult) => Promise<void>;
  /** Whether a run's result is already kept for the controller (reported, not yet acknowledged). */
  reported: (runId: string) => Promise<boolean>;
  /** Attempts of a locally scheduled run while the repository is unreachable; the controller retries its own jobs. */
  retry?: AgentConfig["retry"];
  onStarted?: (record: RunRecord) => void;
  onFinished?: (record: RunRecord) => void;
  progressIntervalMs?: number;
}

interface Running {
  entry: QueuedJob;
  runId: string;
  abort: AbortController;
  record?: RunRecord;
  settled: boolean;
}

/** Codes of a repository that is not reachable yet (disk not mounted, controller away, a prune's lock). */
const UNREACHABLE = new Set(["backend_unavailable", "repo_not_found", "repo_locked"]);
// setTimeout cannot wait longer than ~24.8 days; a deadline further off is not armed.
const MAX_TIMER_MS = 2 ** 31 - 1;

const sameJob = (a: Job, b: Job) => a.jobId === b.jobId || (a.slotKey !== "" && a.slotKey === b.slotKey);

const STATUS: Record<JobOutcome["state"], RunStatus> = {
  succeeded: "ok",
  partial: "partial",
  failed: "failed",
  cancelled: "cancelled",
};

function cancelledOutcome(reason: string): JobOutcome {
  const message = reason ? `cancelled: ${reason}` : "cancelled by the controller";
  return { state: "cancelled", error: { code: "cancelled", message, retryable: false }, details: {} };
}

function deadlineOutcome(deadline: Date): JobOutcome {
  return failed(
    "deadline_exceeded",
    `the job did not finish by its deadline ${deadline.toISOString()}`,
    true,
  );
}

/**
 * Runs the controller's jobs and the agent's own scheduled ones, one at a
 * time in arrival order, each journaled and answered with JobAccepted,
 * coalesced JobProgress and a JobResult. A job that already ran (same
 * job_id or slot_key in the journal) is answered with its stored result; one
 * running now with JobAccepted of the current run. A cancel drops a waiting
 * job and aborts a running one at its next safe point; the deadline reports
 * the run as failed at once and aborts it the same way.
 */
export class JobQueue {
  readonly #waiting: QueuedJob[] = [];
  #running: Running | undefined;
  #idle: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(private readonly options: JobQueueOptions) {}

  runningJobIds(): string[] {
    return this.#running ? [this.#running.entry.job.jobId] : [];
  }

  async submit(entry: QueuedJob): Promise<void> {
    if (this.#stopped || this.#answerKnown(entry)) return;
    const stored = await this.#storedResult(entry.job);
    if (stored) {
      this.options.log.info("job already ran; answering with its stored result", {
        jobId: entry.job.jobId,
        slotKey: entry.job.slotKey || undefined,
        run: stored.runId,
      });
      if (!entry.locallyScheduled) await this.options.report(stored);
      return;
    }
    if (this.#stopped || this.#answerKnown(entry)) return;
    this.#waiting.push(entry);
    this.#pump();
  }

  async cancel(jobId: string, reason: string): Promise<void> {
    const at = this.#waiting.findIndex((w) => w.job.jobId === jobId);
    const queued = at >= 0 ? this.#waiting.splice(at, 1)[0] : undefined;
    if (queued) {
      await this.#finishUnstarted(queued, randomUUID(), cancelledOutcome(reason));
      return;
    }
    const running = this.#running;
    if (running?.entry.job.jobId === jobId) {
      this.options.log.info("cancelling the running job at its next safe point", {
        jobId,
        run: running.runId,
      });
      running.abort.abort(new RunStopped(cancelledOutcome(reason), "cancelled"));
      return;
    }
    this.options.log.info("cancel for a job that is neither waiting nor running", { jobId });
  }

  /**
   * No new runs; waiting dispatched jobs are answered as not run (retryable);
   * the running one gets `graceMs`, then is reported failed and journaled as abandoned.
   */
  async stop(graceMs: number): Promise<boolean> {
    this.#stopped = true;
    for (const entry of this.#waiting.splice(0)) {
      if (entry.locallyScheduled) continue;
      const outcome = failed(
        "agent_stopped",
        "the agent stopped before the job started; send it again",
        true,
      );
      await this.#finishUnstarted(entry, randomUUID(), outcome);
    }
    const running = this.#running;
    if (!running) return true;
    const graceful = await Promise.race([this.#idle.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!graceful && running.record) {
      const outcome = failed(
        "agent_stopped",
        "the agent stopped before the job finished; the repository is unchanged by it",
        true,
      );
      running.abort.abort(new RunStopped(outcome, "agent stopped"));
      await this.#settle(running, running.record, outcome, "abandoned");
    }
    return graceful;
  }

  /**
   * Reports runs a killed agent left unfinished (the journal reads them as
   * abandoned and holds no result): the controller learns they failed.
   */
  async reportAbandoned(): Promise<void> {
    for (const run of await this.options.journal.runs()) {
      if (run.status !== "abandoned" || run.jobId === undefined || run.result !== undefined) continue;
      // Killed between reporting its result and journaling its end: the kept result stands.
      if (await this.options.reported(run.id)) continue;
      const entry: QueuedJob = {
        job: create(JobSchema, { jobId: run.jobId, attempt: run.attempt ?? 0, slotKey: run.slotKey ?? "" }),
        locallyScheduled: run.trigger !== "controller",
        trigger: run.trigger,
      };
      const outcome = failed(
        "agent_stopped",
        "the agent stopped before the job finished; send it again",
        true,
      );
      await this.#settle(
        { entry, runId: run.id, abort: new AbortController(), settled: false },
        run,
        outcome,
        "abandoned",
        kindOfRecorded(run.job),
      );
    }
  }

  /** True when the job is running (answered with JobAccepted) or already waiting. */
  #answerKnown(entry: QueuedJob): boolean {
    const running = this.#running;
    if (running && sameJob(running.entry.job, entry.job)) {
      if (!entry.locallyScheduled) this.options.accepted(entry.job.jobId, running.runId);
      return true;
    }
    return this.#waiting.some((w) => sameJob(w.job, entry.job));
  }

  async #storedResult(job: Job): Promise<JobResult | undefined> {
    const runs = await this.options.journal.runs();
    const done = runs.findLast(
      (r) =>
        r.status !== "running" &&
        r.result !== undefined &&
        (r.jobId === job.jobId || (job.slotKey !== "" && r.slotKey === job.slotKey)) &&
        // A retry (a later attempt of the same job) runs again.
        job.attempt <= (r.attempt ?? 0),
    );
    return done ? fromJson(JobResultSchema, done.result as JsonValue) : undefined;
  }

  #pump(): void {
    if (this.#running || this.#stopped) return;
    const entry = this.#waiting.shift();
    if (!entry) return;
    const running: Running = { entry, runId: randomUUID(), abort: new AbortController(), settled: false };
    this.#running = running;
    this.#idle = this.#execute(running)
      .catch((err) =>
        this.options.log.error("job runner failed", { run: running.runId, reason: String(err) }),
      )
      .finally(() => {
        this.#running = undefined;
        this.#pump();
      });
  }

  async #execute(run: Running): Promise<void> {
    const { job } = run.entry;
    const deadline = job.deadline ? timestampDate(job.deadline) : undefined;
    if (deadline && deadline.getTime() <= Date.now()) {
      await this.#finishUnstarted(run.entry, run.runId, deadlineOutcome(deadline));
      return;
    }
    const journalJob = recordedJobOf(kindOf(job));
    let lock: Awaited<ReturnType<typeof acquireJobLock>>;
    try {
      lock = await acquireJobLock(this.options.stateDir, journalJob);
    } catch (err) {
      await this.#finishUnstarted(run.entry, run.runId, {
        state: "failed",
        error: failureOf(err),
        details: {},
      });
      return;
    }
    try {
      const record: RunRecord = {
        id: run.runId,
        job: journalJob,
        trigger: run.entry.trigger,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        status: "running",
        jobId: job.jobId,
        attempt: job.attempt,
        ...(job.slotKey ? { slotKey: job.slotKey } : {}),
      };
      await this.options.journal.write(record);
      run.record = record;
      this.options.onStarted?.(record);
      if (!run.entry.locallyScheduled) this.options.accepted(job.jobId, run.runId);
      this.options.log.info("job started", {
        job: journalJob,
        jobId: job.jobId,
        run: run.runId,
        slotKey: job.slotKey || undefined,
      });
      const wait = deadline ? deadline.getTime() - Date.now() : Number.POSITIVE_INFINITY;
      const timer =
        wait <= MAX_TIMER_MS
          ? setTimeout(() => void this.#deadlinePassed(run, record, deadline as Date), Math.max(0, wait))
          : undefined;
      const outcome = await this.#attempts(run);
      clearTimeout(timer);
      await this.#settle(run, record, outcome);
    } finally {
      await lock.release();
    }
  }

  async #deadlinePassed(run: Running, record: RunRecord, deadline: Date): Promise<void> {
    const outcome = deadlineOutcome(deadline);
    run.abort.abort(new RunStopped(outcome, "deadline exceeded"));
    await this.#settle(run, record, outcome);
  }

  async #attempts(run: Running): Promise<JobOutcome> {
    const { job } = run.entry;
    const signal = run.abort.signal;
    const coalescer = new ProgressCoalescer<JobProgressUpdate>(this.options.progressIntervalMs ?? 500, (p) =>
      this.options.progress(this.#progressMessage(run, p)),
    );
    const ctx = {
      signal,
      log: (line: string) => this.options.log.info(line, { run: run.runId }),
      onProgress: (p: JobProgressUpdate) => coalescer.push(p),
    };
    const retry = run.entry.locallyScheduled ? this.options.retry : undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        const outcome = await this.options.executor(job, ctx);
        const unreachable = outcome.state === "failed" && UNREACHABLE.has(outcome.error?.code ?? "");
        if (!retry || !unreachable || attempt >= retry.attempts || signal.aborted) return outcome;
        const delay = backoffDelayMs(attempt - 1, retry.initialDelayMs, retry.maxDelayMs);
        this.options.log.warn("repository unreachable, retrying", {
          run: run.runId,
          attempt,
          delayMs: delay,
          reason: outcome.error?.message,
        });
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          return (signal.reason as RunStopped).outcome;
        }
      }
    } finally {
      coalescer.close();
    }
  }

  #progressMessage(run: Running, p: JobProgressUpdate): JobProgress {
    return create(JobProgressSchema, {
      jobId: run.entry.job.jobId,
      runId: run.runId,
      phase: p.phase,
      bytesDone: BigInt(Math.max(0, Math.round(p.bytesDone))),
      bytesTotal: BigInt(Math.max(0, Math.round(p.bytesTotal ?? 0))),
      itemsDone: BigInt(p.itemsDone ?? 0),
      itemsTotal: BigInt(p.itemsTotal ?? 0),
      currentItem: p.item ?? "",
      at: timestampNow(),
    });
  }

  /** Records and reports a run's end, once: a deadline may have ended it before its work did. */
  async #settle(
    run: Running,
    record: RunRecord,
    outcome: JobOutcome,
    status?: RunStatus,
    kind?: string,
  ): Promise<void> {
    if (run.settled) {
      this.options.log.warn("a run stopped after its result was reported", {
        run: run.runId,
        outcome: outcome.state,
      });
      return;
    }
    run.settled = true;
    const finishedAt = new Date();
    const result = jobResultOf(
      {
        job: run.entry.job,
        runId: run.runId,
        startedAt: new Date(record.startedAt),
        finishedAt,
        locallyScheduled: run.entry.locallyScheduled,
      },
      outcome,
    );
    if (kind) result.kind = kind;
    const final: RunRecord = {
      ...record,
      status: status ?? STATUS[outcome.state],
      finishedAt: finishedAt.toISOString(),
      durationMs: finishedAt.getTime() - new Date(record.startedAt).getTime(),
      ...(outcome.bytesRead !== undefined ? { bytes: outcome.bytesRead } : {}),
      ...(outcome.bytesAdded !== undefined ? { addedBytes: outcome.bytesAdded } : {}),
      ...(outcome.recoveryPoint ? { recoveryPoint: outcome.recoveryPoint.id } : {}),
      ...(outcome.error ? { error: outcome.error.message } : {}),
      details: outcome.details,
      result: toJson(JobResultSchema, result),
    };
    // Reported before journaled: a run the journal shows finished always has its result kept
    // for the controller, and a kill in between leaves a result that reportAbandoned respects.
    await this.options.report(result);
    await this.options.journal.write(final);
    this.options.onFinished?.(final);
    this.options.log[final.status === "ok" ? "info" : "error"]("job finished", {
      job: final.job,
      jobId: final.jobId,
      run: final.id,
      status: final.status,
      ...(final.error ? { error: final.error } : {}),
    });
  }

  /** A job answered without running: dropped by a cancel, past its deadline, refused at the lock. */
  async #finishUnstarted(entry: QueuedJob, runId: string, outcome: JobOutcome): Promise<void> {
    const record: RunRecord = {
      id: runId,
      job: recordedJobOf(kindOf(entry.job)),
      trigger: entry.trigger,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      status: "running",
      jobId: entry.job.jobId,
      attempt: entry.job.attempt,
      ...(entry.job.slotKey ? { slotKey: entry.job.slotKey } : {}),
    };
    await this.#settle({ entry, runId, abort: new AbortController(), settled: false }, record, outcome);
  }
}
