import { durationMs } from "@bufbuild/protobuf/wkt";
import type { HealthCheck } from "@pwdr/host";
import type { HealthCheckSpec } from "@pwdr/protocol";
import { failed, type JobOutcome } from "./job-outcome.js";
import type { Run } from "./job-run.js";

/** How a URL given in the job (not the config's) is polled. */
const URL_CHECK = { expectStatus: 200, timeoutMs: 5_000, attempts: 30, intervalMs: 1_000 } as const;
const URL_TIMEOUT_MS = 60_000;

/**
 * Waits until the application answers its health check: the config's
 * `health`, or the job's URL. Harmless to repeat; it only reads. The result
 * carries the last answer (status, start of the body with credential-looking
 * values redacted, or the connection error) and how long it took.
 */
export async function healthJob(spec: HealthCheckSpec, run: Run): Promise<JobOutcome> {
  const check = checkOf(spec, run.config.health);
  if (typeof check === "string") return failed("invalid_argument", check);
  const timeoutMs = spec.timeout
    ? durationMs(spec.timeout)
    : spec.url && spec.url !== run.config.health?.url
      ? URL_TIMEOUT_MS
      : undefined;
  run.ctx.onProgress({ phase: "health", bytesDone: 0, item: check.url });
  const { pollHealth } = await import("@pwdr/host");
  const poll = await pollHealth(check, {
    signal: run.ctx.signal,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  const details = { ...poll };
  if (poll.healthy) return { state: "succeeded", details };
  const last = poll.last.status === undefined ? poll.last.error : `status ${poll.last.status}`;
  return {
    ...failed(
      "unhealthy",
      `${check.url} did not answer ${check.expectStatus} in ${poll.attempts} attempts over ` +
        `${Math.round(poll.durationMs / 1000)} s (last: ${last})`,
      true,
    ),
    details,
  };
}

function checkOf(spec: HealthCheckSpec, own: HealthCheck | undefined): HealthCheck | string {
  if (!spec.url) {
    return (
      own ?? "this host's config has no `health` check and the job gave no url: add one, or name the url"
    );
  }
  if (!/^https?:\/\//.test(spec.url) || !URL.canParse(spec.url)) {
    return `the health check url ${spec.url} is not an http(s) URL`;
  }
  return spec.url === own?.url ? own : { url: spec.url, ...URL_CHECK };
}
