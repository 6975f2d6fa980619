/**
 * The repository's error catalog. Every error a user can meet has a stable
 * code, a process exit code (docs/errors.md) and says whether retrying may
 * help; messages say what happened and what to do, never a secret.
 */
export const REPO_ERRORS = {
  repo_not_found: { exit: 10, retryable: false },
  wrong_password: { exit: 11, retryable: false },
  repo_format_newer: { exit: 12, retryable: false },
  repo_exists: { exit: 13, retryable: false },
  repo_locked: { exit: 14, retryable: true },
  no_space: { exit: 15, retryable: false },
  backend_unavailable: { exit: 16, retryable: true },
  data_corrupt: { exit: 17, retryable: false },
  blob_missing: { exit: 17, retryable: false },
  snapshot_not_found: { exit: 18, retryable: false },
  unsafe_path: { exit: 19, retryable: false },
  invalid_argument: { exit: 2, retryable: false },
  source_failed: { exit: 20, retryable: true },
  last_key: { exit: 23, retryable: false },
  check_failed: { exit: 21, retryable: false },
  path_not_found: { exit: 22, retryable: false },
  access_denied: { exit: 24, retryable: false },
} as const;

export type RepoErrorCode = keyof typeof REPO_ERRORS;

export class RepoError extends Error {
  readonly exitCode: number;
  readonly retryable: boolean;

  constructor(
    readonly code: RepoErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = "RepoError";
    this.exitCode = REPO_ERRORS[code].exit;
    this.retryable = REPO_ERRORS[code].retryable;
  }
}

/** Checks the code rather than the class, so two loaded copies of this package agree. */
export function isRepoError(err: unknown, code?: RepoErrorCode): err is RepoError {
  return (
    typeof err === "object" &&
    err !== null &&
    (err as { name?: unknown }).name === "RepoError" &&
    (code === undefined || (err as { code?: unknown }).code === code)
  );
}
