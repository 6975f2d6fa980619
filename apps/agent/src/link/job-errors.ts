import { isRepoError, REPO_ERRORS } from "@pwdr/repo";

/**
 * Codes a job result can carry besides the repository's (docs/errors.md,
 * "Agent job error codes"); `retryable` is JobError.retryable.
 */
export const JOB_ERRORS = {
  agent_not_configured: { retryable: false },
  deadline_exceeded: { retryable: true },
  cancelled: { retryable: false },
  agent_stopped: { retryable: true },
  unsupported_job: { retryable: false },
  drill_failed: { retryable: false },
  service_action_failed: { retryable: true },
  source_missing: { retryable: false },
  version_incompatible: { retryable: false },
  unhealthy: { retryable: true },
  command_failed: { retryable: false },
  internal_error: { retryable: false },
} as const;

export type JobErrorCode = keyof typeof JOB_ERRORS;

export function retryableCode(code: string): boolean {
  const known = { ...REPO_ERRORS, ...JOB_ERRORS } as Record<string, { retryable: boolean }>;
  return known[code]?.retryable ?? false;
}

/**
 * The code and retry flag of an error thrown by a job: a replacement host's
 * refusal reason (@pwdr/host's ReplacementRefusal, told by its `reason` so
 * the source drivers need not load here), the repository's code, else
 * internal_error.
 */
export function failureOf(err: unknown): { code: string; message: string; retryable: boolean } {
  const message = err instanceof Error ? err.message : String(err);
  const reason = (err as { reason?: unknown } | undefined)?.reason;
  if (isRepoError(err) && typeof reason === "string" && reason in JOB_ERRORS) {
    return { code: reason, message, retryable: retryableCode(reason) };
  }
  if (isRepoError(err)) return { code: err.code, message, retryable: err.retryable };
  return { code: "internal_error", message, retryable: false };
}
