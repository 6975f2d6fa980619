// The dashboard's session cookie. The __Host- prefix makes the browser refuse
// it unless it is Secure, has Path=/ and no Domain: no subdomain or plain-HTTP
// page can set or overwrite it.
import type { FastifyRequest } from "fastify";

export const SESSION_COOKIE = "__Host-pwdr_session";

/** The header a cookie-authenticated request that changes something must carry (see docs/dashboard.md). */
export const CSRF_HEADER = "x-pwdr-csrf";

/** The session id the request's cookie carries, if any. */
export function sessionIdOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/** Set-Cookie value of a new session: HttpOnly (no script reads it), Secure, SameSite=Strict. */
export function sessionCookie(id: string, maxAgeMs: number): string {
  const maxAge = Math.max(0, Math.floor(maxAgeMs / 1000));
  return `${SESSION_COOKIE}=${id}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}

/** Set-Cookie value that makes the browser drop the session cookie. */
export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

/** Methods that change nothing, so a cross-site request with them cannot do harm. */
export function isSafeMethod(method: string): boolean {
  return method === "GET" || method === "HEAD" || method === "OPTIONS";
}
