import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@pwdr/logging";
import { isRepoError } from "@pwdr/repo";
import { backoffDelayMs } from "../backoff.js";
import type { AgentConfig, JobName } from "../config/agent-config.js";
import { acquireJobLock } from "./job-lock.js";
import { JOBS, type JobOutcome } from "./jobs.js";
import type { Journal, RunRecord, RunTrigger } from "./journal.js";
import { openConfigRepository } from "./open-config-repository.js";

export interface ExecuteOptions {
  config: AgentConfig;
  journal: Journal;
  trigger: RunTrigger;
  log: Logger;
  onStart?: (record: RunRecord) => void;
  onProgress?: (text: string) => void;
  wait?: (ms: number) => Promise<unknown>;
}

/** Errors a later attempt may not see: the repository's disk not mounted yet, a prune holding the lock. */
const RETRYABLE = ["backend_unavailable", "repo_not_found", "repo_locked"] as const;

/**
 * Runs one job as the daemon and `pwdr-agent now` do: under the job's lock,
 * journaled before and after, retried with backoff while the repository is
 * unreachable. Never throws for a failing job: the failure is the record.
 */
export async function executeJob(job: JobName, options: ExecuteOptions): Promise<RunRecord> {
  const { config, journal } = options;
  const lock = await acquireJobLock(config.stateDir, job);
  const started = performance.now();
  const record: RunRecord = {
    id: randomUUID(),
    job,
    trigger: options.trigger,
    pid: process.pid,
    startedAt: new Date().toISOString(),
    status: "running",
  };
  try {
    await journal.write(record);
    options.onStart?.(record);
    options.log.info("job started", { job, run: record.id, trigger: options.trigger });
    const { outcome, attempts } = await attemptWithRetry(job, options);
    const final: RunRecord = { ...record, ...outcome, attempts, ...finishTimes(started) };
    await journal.write(final);
    options.log[final.status === "ok" ? "info" : "error"]("job finished", summary(final));
    return final;
  } finally {
    await lock.release();
  }
}

async function attemptWithRetry(
  job: JobName,
  options: ExecuteOptions,
): Promise<{ outcome: JobOutcome; attempts: number }> {
  const { attempts: max, initialDelayMs, maxDelayMs } = options.config.retry;
  const wait = options.wait ?? ((ms: number) => sleep(ms));
  for (let attempt = 1; ; attempt++) {
    const outcome = await attemptOnce(job, options);
    if (!outcome.retryable || attempt >= max) return { outcome: outcome.result, attempts: attempt };
    const delay = backoffDelayMs(attempt - 1, initialDelayMs, maxDelayMs);
    options.log.warn("repository unreachable, retrying", {
      job,
      attempt,
      delayMs: delay,
      reason: outcome.result.error,
    });
    await wait(delay);
  }
}

async function attemptOnce(
  job: JobName,
  options: ExecuteOptions,
): Promise<{ result: JobOutcome; retryable: boolean }> {
  const run = JOBS[job];
  try {
    const repo = await openConfigRepository(options.config);
    try {
      const log = (line: string) => options.log.info(line, { job });
      const env = {
        config: options.config,
        repo,
        log,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      };
      return { result: await run(env), retryable: false };
    } finally {
      await repo.close();
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      result: { status: "failed", error: message },
      retryable: RETRYABLE.some((code) => isRepoError(err, code)),
    };
  }
}

function finishTimes(started: number): Pick<RunRecord, "finishedAt" | "durationMs"> {
  return { finishedAt: new Date().toISOString(), durationMs: Math.round(performance.now() - started) };
}

function summary(r: RunRecord): Record<string, unknown> {
  return {
    job: r.job,
    run: r.id,
    status: r.status,
    durationMs: r.durationMs,
    attempts: r.attempts,
    ...(r.recoveryPoint ? { recoveryPoint: r.recoveryPoint } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}
