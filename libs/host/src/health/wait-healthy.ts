import { setTimeout as sleep } from "node:timers/promises";
import { RepoError } from "@pwdr/repo";
import type { HealthCheck } from "../definition/host-definition.js";

export interface HealthResult {
  url: string;
  status: number;
  attempts: number;
  durationMs: number;
}

/**
 * Polls the health endpoint until it answers the expected status, each
 * request bounded by `timeoutMs`, at most `attempts` times. The error names
 * the URL and the last answer (status or connection error), never a body.
 */
export async function waitHealthy(check: HealthCheck): Promise<HealthResult> {
  const started = performance.now();
  let last = "no attempt";
  for (let attempt = 1; attempt <= check.attempts; attempt++) {
    if (attempt > 1) await sleep(check.intervalMs);
    const outcome = await probe(check);
    if (outcome.status === check.expectStatus) {
      return { url: check.url, status: outcome.status, attempts: attempt, durationMs: elapsed(started) };
    }
    last = outcome.status === undefined ? outcome.error : `status ${outcome.status}`;
  }
  throw new RepoError(
    "source_failed",
    `the health check ${check.url} did not answer ${check.expectStatus} in ${check.attempts} attempts ` +
      `over ${Math.round(elapsed(started) / 1000)} s (last: ${last}); the restored services are running but not healthy`,
  );
}

async function probe(check: HealthCheck): Promise<{ status?: number; error: string }> {
  try {
    const response = await fetch(check.url, {
      signal: AbortSignal.timeout(check.timeoutMs),
      redirect: "manual",
    });
    await response.body?.cancel();
    return { status: response.status, error: "" };
  } catch (err) {
    return { error: describeFetchError(err, check.timeoutMs) };
  }
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  return e.cause?.code ?? e.message;
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
