// The REST API as the dashboard calls it: same origin, the session cookie
// (HttpOnly: this code never sees it) and the CSRF header on every request.

export interface ApiErrorDetail {
  path: string;
  message: string;
}

/** A failed call, with the API's error code, message and per-field details. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
  ) {
    super(message);
  }
}

const PREFIX = "/api/v1";
const signedOutListeners = new Set<() => void>();

/** Called when the API answers 401: the session ended (expired, signed out elsewhere, token revoked). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { "x-pwdr-csrf": "1", accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${PREFIX}${path}`, {
    method,
    headers,
    credentials: "same-origin",
    cache: "no-store",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (response.ok) return json as T;
  const error = (json as { error?: { code?: string; message?: string; details?: ApiErrorDetail[] } })?.error;
  if (response.status === 401 && path !== "/session") for (const l of signedOutListeners) l();
  throw new ApiFailure(
    response.status,
    error?.code ?? "HTTP_ERROR",
    error?.message ?? `${method} ${path} answered ${response.status}`,
    error?.details ?? [],
  );
}

export const get = <T>(path: string) => api<T>("GET", path);
export const post = <T>(path: string, body: unknown) => api<T>("POST", path, body);

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(params).filter((e): e is [string, string | number] => e[1] !== undefined);
  return pairs.length ? `?${new URLSearchParams(pairs.map(([k, v]) => [k, String(v)])).toString()}` : "";
}
