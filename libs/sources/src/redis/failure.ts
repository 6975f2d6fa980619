import { RepoError } from "@pwdr/repo";

/**
 * A `source_failed` error built from the message of what went wrong only.
 * The original error is deliberately not kept as `cause`: ioredis errors carry
 * the command and its arguments (an AUTH carries the password).
 */
export function redisFailure(what: string, err: unknown, options: { hint?: string } = {}): RepoError {
  const reason = err instanceof Error ? err.message : String(err);
  const hint = options.hint ? `; ${options.hint}` : "";
  return new RepoError("source_failed", `${what}: ${reason}${hint}`);
}

export function sourceFailed(message: string): RepoError {
  return new RepoError("source_failed", message);
}

export function invalidArgument(message: string): RepoError {
  return new RepoError("invalid_argument", message);
}
