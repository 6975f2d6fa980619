import { setTimeout as sleep } from "node:timers/promises";
import { RepoError } from "@pwdr/repo";
import type { HealthCheck } from "../definition/host-definition.js";
import { redactBody } from "./redact-body.js";

export interface HealthResult {
  url: string;
  status: number;
  attempts: number;
  durationMs: number;
}

/** One answer of the health endpoint: its status and the start of its body, or why there was none. */
export interface HealthAnswer {
  status?: number;
  /** At most BODY_EXCERPT characters, with credential-looking values replaced by "[redacted]". */
  body?: string;
  error?: string;
}

export interface HealthPoll {
  healthy: boolean;
  url: string;
  expectStatus: number;
  attempts: number;
  durationMs: number;
  last: HealthAnswer;
}

export interface PollOptions {
  /** Keep trying until this much time passed, instead of `check.attempts` times. */
  timeoutMs?: number;
  /** Stops between attempts (cancel, job deadline). */
  signal?: AbortSignal;
}

const BODY_EXCERPT = 300;

/**
 * Polls the health endpoint until it answers the expected status: at most
 * `check.attempts` times, or for `timeoutMs` when given, each request
 * bounded by `check.timeoutMs`. Says how it went; does not throw.
 */
export async function pollHealth(check: HealthCheck, options: PollOptions = {}): Promise<HealthPoll> {
  const started = performance.now();
  const more = (attempt: number) =>
    options.timeoutMs === undefined
      ? attempt <= check.attempts
      : attempt === 1 || elapsed(started) + check.intervalMs < options.timeoutMs;
  let last: HealthAnswer = { error: "no attempt" };
  let attempts = 0;
  while (last.status !== check.expectStatus && more(attempts + 1)) {
    if (attempts > 0) await sleep(check.intervalMs, undefined, { signal: options.signal });
    options.signal?.throwIfAborted();
    last = await probe(check);
    attempts++;
  }
  return {
    healthy: last.status === check.expectStatus,
    url: check.url,
    expectStatus: check.expectStatus,
    attempts,
    durationMs: elapsed(started),
    last,
  };
}

/**
 * Polls the health endpoint until it answers the expected status, each
 * request bounded by `timeoutMs`, at most `attempts` times. The error names
 * the URL and the last answer (status or connection error), never a body.
 */
export async function waitHealthy(check: HealthCheck): Promise<HealthResult> {
  const poll = await pollHealth(check);
  if (poll.healthy) {
    return {
      url: check.url,
      status: check.expectStatus,
      attempts: poll.attempts,
      durationMs: poll.durationMs,
    };
  }
  const last = poll.last.status === undefined ? poll.last.error : `status ${poll.last.status}`;
  throw new RepoError(
    "source_failed",
    `the health check ${check.url} did not answer ${check.expectStatus} in ${poll.attempts} attempts ` +
      `over ${Math.round(poll.durationMs / 1000)} s (last: ${last}); the restored services are running but not healthy`,
  );
}

async function probe(check: HealthCheck): Promise<HealthAnswer> {
  const signal = AbortSignal.timeout(check.timeoutMs);
  try {
    const response = await fetch(check.url, { signal, redirect: "manual" });
    const body = await excerpt(response).catch(() => undefined);
    return { status: response.status, ...(body ? { body } : {}) };
  } catch (err) {
    return { error: describeFetchError(err, check.timeoutMs) };
  }
}

/** The start of the body only: a health page may be large, and the rest is not read. */
async function excerpt(response: Response): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const decoder = new TextDecoder();
  let text = "";
  while (text.length < BODY_EXCERPT) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => {});
  return redactBody(text.slice(0, BODY_EXCERPT));
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
