import { timestampDate } from "@bufbuild/protobuf/wkt";
import {
  type Catalog,
  type Host,
  isUniqueViolation,
  type Job,
  type JobRun,
  type JobRunState,
  Prisma,
} from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { JobAccepted, JobProgress, JobResult } from "@pwdr/protocol";
import { retryDelayMs, retrySettingsOf } from "./job-spec.js";
import type { LiveProgress } from "./live-progress.js";
import { jobForResult, RefusedResultError } from "./result-job.js";
import { ForeignRecordError, recordRecoveryPoint } from "./result-recovery-point.js";
import { finalRunState, isFinal } from "./run-states.js";

type Tx = Prisma.TransactionClient;

export interface JobResultsDeps {
  db: Catalog;
  progress: LiveProgress;
  log: Logger;
  now?: () => Date;
  /** Called once per newly recorded result, after its transaction committed (notifications). */
  onRecorded?: (recorded: RecordedRun) => void;
}

/** A result as it was recorded: the rows it wrote, and whether the job went back to pending. */
export interface RecordedRun {
  host: Host;
  job: Job;
  run: JobRun;
  requeued: boolean;
}

/** What became of a result: recorded (acknowledge it) or refused (leave it in the agent's outbox). */
export type ResultOutcome = RecordedResult | { recorded: false; reason: string };

export interface RecordedResult {
  recorded: true;
  runId: string;
  jobId: string;
  /** The run was recorded already; nothing changed. */
  replay: boolean;
  /** The run failed and the job went back to pending for another attempt. */
  requeued: boolean;
}

// Two results racing for one slot (or a replay racing the original) meet on a
// unique key; the loser runs again and finds the winner's rows.
const UNIQUE_RACE_ATTEMPTS = 3;

/**
 * Records what agents report about jobs: JobAccepted starts a run, JobProgress
 * updates it (kept in memory, written now and then), JobResult finishes it in
 * one transaction together with its job and recovery point. Results are keyed
 * by run_id, so a result replayed from an agent's outbox changes nothing.
 */
export class JobResults {
  readonly #now: () => Date;

  constructor(private readonly deps: JobResultsDeps) {
    this.#now = deps.now ?? (() => new Date());
  }

  async accepted(hostId: string, message: JobAccepted): Promise<void> {
    const { db, log } = this.deps;
    const job = await db.job.findUnique({ where: { id: message.jobId } });
    if (!message.runId || !job || job.hostId !== hostId) {
      log.warn("job acceptance ignored", { hostId, jobId: message.jobId, runId: message.runId });
      return;
    }
    const startedAt = this.#now();
    await db.$transaction([
      db.jobRun.upsert({
        where: { idempotencyKey: message.runId },
        create: { jobId: job.id, hostId, state: "running", startedAt, idempotencyKey: message.runId },
        update: {},
      }),
      db.job.updateMany({
        where: { id: job.id, state: { in: ["pending", "dispatched"] } },
        data: { state: "running" },
      }),
    ]);
  }

  async progress(hostId: string, message: JobProgress): Promise<void> {
    if (!message.runId || !message.jobId) return;
    const report = {
      runId: message.runId,
      jobId: message.jobId,
      phase: message.phase,
      bytesDone: Number(message.bytesDone),
      bytesTotal: Number(message.bytesTotal),
      itemsDone: Number(message.itemsDone),
      itemsTotal: Number(message.itemsTotal),
      currentItem: message.currentItem,
      at: (message.at ? timestampDate(message.at) : this.#now()).toISOString(),
    };
    if (!this.deps.progress.update(hostId, report)) return;
    await this.deps.db.jobRun.updateMany({
      where: { idempotencyKey: message.runId, hostId, state: "running" },
      data: { phase: message.phase || null, progress: report },
    });
  }

  async result(hostId: string, result: JobResult): Promise<ResultOutcome> {
    const state = finalRunState(result.state);
    const problem = !result.runId ? "it has no run_id" : !state ? `state ${result.state} is not final` : "";
    if (problem || !state) return this.#refuse(hostId, result, problem);
    for (let attempt = 1; ; attempt++) {
      try {
        const { outcome, recorded } = await this.deps.db.$transaction((tx) =>
          this.#record(tx, hostId, result, state),
        );
        this.deps.progress.finish(hostId, outcome.jobId);
        if (recorded) this.deps.onRecorded?.(recorded);
        return outcome;
      } catch (err) {
        if (err instanceof RefusedResultError || err instanceof ForeignRecordError) {
          return this.#refuse(hostId, result, err.message);
        }
        if (!isUniqueViolation(err) || attempt >= UNIQUE_RACE_ATTEMPTS) throw err;
      }
    }
  }

  #refuse(hostId: string, result: JobResult, reason: string): ResultOutcome {
    this.deps.log.warn("job result refused", { hostId, jobId: result.jobId, runId: result.runId, reason });
    return { recorded: false, reason };
  }

  async #record(
    tx: Tx,
    hostId: string,
    result: JobResult,
    state: JobRunState,
  ): Promise<{ outcome: RecordedResult; recorded?: RecordedRun }> {
    const earlier = await tx.jobRun.findUnique({ where: { idempotencyKey: result.runId } });
    if (earlier && earlier.hostId !== hostId)
      throw new RefusedResultError(`run ${result.runId} belongs to another host`);
    if (earlier && isFinal(earlier.state)) {
      return {
        outcome: { recorded: true, runId: result.runId, jobId: earlier.jobId, replay: true, requeued: false },
      };
    }
    const host = await tx.host.findUniqueOrThrow({ where: { id: hostId } });
    const job = earlier
      ? await tx.job.findUniqueOrThrow({ where: { id: earlier.jobId } })
      : await jobForResult(tx, host, result);
    const run = await this.#upsertRun(tx, host, job, result, state);
    if (result.recoveryPoint?.recoveryPointId) {
      await recordRecoveryPoint(tx, result.recoveryPoint, {
        hostId,
        jobRunId: run.id,
        startedAt: run.startedAt,
      });
    }
    const requeued = await this.#finishJob(tx, job, result, state);
    return {
      outcome: { recorded: true, runId: result.runId, jobId: job.id, replay: false, requeued },
      recorded: { host, job, run, requeued },
    };
  }

  #upsertRun(tx: Tx, host: Host, job: Job, result: JobResult, state: JobRunState) {
    const finishedAt = result.finishedAt ? timestampDate(result.finishedAt) : this.#now();
    const data = {
      state,
      locallyScheduled: result.locallyScheduled,
      finishedAt,
      bytesRead: result.bytesRead,
      bytesAdded: result.bytesAdded,
      errorCode: result.error?.code || null,
      errorMessage: result.error?.message || null,
      details: this.#details(host, result),
    };
    // The agent's clock decides when the run started; the acceptance only noted when the controller heard of it.
    const reportedStart = result.startedAt ? { startedAt: timestampDate(result.startedAt) } : {};
    return tx.jobRun.upsert({
      where: { idempotencyKey: result.runId },
      create: {
        jobId: job.id,
        hostId: host.id,
        idempotencyKey: result.runId,
        startedAt: finishedAt,
        ...reportedStart,
        ...data,
      },
      update: { ...data, ...reportedStart },
    });
  }

  #details(host: Host, result: JobResult): Prisma.InputJsonObject | typeof Prisma.DbNull {
    if (!result.detailsJson) return Prisma.DbNull;
    try {
      const parsed: unknown = JSON.parse(result.detailsJson);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
        return parsed as Prisma.InputJsonObject;
    } catch {
      // reported below, like any other malformed details
    }
    this.deps.log.warn("job result details are not a JSON object; dropped", {
      host: host.name,
      runId: result.runId,
    });
    return Prisma.DbNull;
  }

  /** Sets the job's final state, or puts it back in the queue when its retry settings allow. */
  async #finishJob(tx: Tx, job: Job, result: JobResult, state: JobRunState): Promise<boolean> {
    const reason = result.error?.message ? `${result.error.code}: ${result.error.message}` : null;
    const retry = retrySettingsOf(job.params);
    // A run the agent started itself is not retried from here: sent again, the
    // slot would be answered with this same stored result.
    const retrying =
      state === "failed" &&
      !result.locallyScheduled &&
      result.error?.retryable &&
      retry &&
      job.attempt < retry.attempts;
    if (retrying) {
      const scheduledFor = new Date(this.#now().getTime() + retryDelayMs(retry, job.attempt));
      await tx.job.update({
        where: { id: job.id },
        data: {
          state: "pending",
          scheduledFor,
          reason: `attempt ${job.attempt} failed (${reason}); retrying`,
          finishedAt: null,
        },
      });
      return true;
    }
    await tx.job.update({
      where: { id: job.id },
      data: {
        state,
        reason: state === "succeeded" ? null : reason,
        finishedAt: result.finishedAt ? timestampDate(result.finishedAt) : this.#now(),
      },
    });
    return false;
  }
}
