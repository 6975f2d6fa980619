import type { FastifyRequest } from "fastify";
import { ApiError } from "../api/api-errors.js";
import type { ApiPrincipal } from "../api-tokens.js";
import type { DashboardSessions } from "./dashboard-sessions.js";
import { CSRF_HEADER, isSafeMethod, sessionIdOf } from "./session-cookie.js";

/**
 * Authenticates a request by its dashboard session cookie. A browser attaches
 * the cookie to every request to the controller, also ones another site
 * makes it send; such a site cannot add a custom header (that needs a CORS
 * preflight the controller never grants), so a change signed by the cookie
 * must carry one. SameSite=Strict already keeps the cookie off cross-site
 * requests in current browsers; the header does not rely on that.
 */
export function sessionAuthenticator(sessions: DashboardSessions) {
  return async (request: FastifyRequest): Promise<ApiPrincipal | undefined> => {
    const id = sessionIdOf(request);
    if (!id) return undefined;
    const session = await sessions.resolve(id);
    if (!session) return undefined;
    if (!isSafeMethod(request.method) && request.headers[CSRF_HEADER] === undefined) {
      throw new ApiError(
        "FORBIDDEN",
        `a change made with the dashboard's session cookie must carry the ${CSRF_HEADER} header ` +
          "(cross-site request refused); API clients send Authorization: Bearer instead",
      );
    }
    return session.principal;
  };
}
