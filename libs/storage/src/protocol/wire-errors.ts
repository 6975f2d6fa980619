import { isRepoError, REPO_ERRORS, RepoError, type RepoErrorCode } from "@pwdr/repo";

/** An error response's JSON body. */
export interface WireError {
  error: { code: RepoErrorCode; message: string };
}

const STATUS: Partial<Record<RepoErrorCode, number>> = {
  invalid_argument: 400,
  access_denied: 403,
  blob_missing: 404,
  repo_not_found: 404,
  repo_exists: 409,
  data_corrupt: 416,
  no_space: 507,
  backend_unavailable: 503,
};

export function statusOf(code: RepoErrorCode): number {
  return STATUS[code] ?? 500;
}

function isKnownCode(code: unknown): code is RepoErrorCode {
  return typeof code === "string" && Object.hasOwn(REPO_ERRORS, code);
}

/** What a status means when the body carries no code (a proxy, an early reset). */
function codeOfStatus(status: number): RepoErrorCode {
  if (status === 403 || status === 401) return "access_denied";
  if (status === 404) return "blob_missing";
  if (status === 400 || status === 405 || status === 413) return "invalid_argument";
  return "backend_unavailable";
}

function parseWireError(body: Buffer): WireError["error"] | undefined {
  try {
    const parsed = JSON.parse(body.toString("utf8")) as Partial<WireError>;
    const { code, message } = parsed.error ?? {};
    return isKnownCode(code) && typeof message === "string" ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}

/** Turns an error response back into the RepoError the server raised. */
export function errorFromResponse(status: number, body: Buffer, location: string): RepoError {
  const wire = parseWireError(body);
  const code = wire?.code ?? codeOfStatus(status);
  const message = wire?.message ?? `HTTP status ${status}`;
  return new RepoError(code, `${location}: ${message}`);
}

export function toWireError(err: unknown): WireError | undefined {
  return isRepoError(err) ? { error: { code: err.code, message: err.message } } : undefined;
}
