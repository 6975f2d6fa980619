import { API_TOKEN_ROLES, type ApiTokenRole, type Catalog } from "@pwdr/catalog";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { type ApiPrincipal, authenticateApiToken } from "../api-tokens.js";
import { ApiError } from "./api-errors.js";

/** Who may call a route: anyone ("public"), or a token with at least this role. */
export type RouteAccess = "public" | ApiTokenRole;

declare module "fastify" {
  interface FastifyContextConfig {
    /** Required on every route: there is no default, so a forgotten declaration cannot open a route. */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    /** The token's owner once authenticated; null on public routes and before auth. */
    principal: ApiPrincipal | null;
  }
}

const RANK: Record<ApiTokenRole, number> = Object.fromEntries(
  API_TOKEN_ROLES.map((role, i) => [role, i]),
) as Record<ApiTokenRole, number>;

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** Authenticates a request without a bearer token (the dashboard's session cookie); undefined: not signed in. */
export type SessionAuthenticator = (request: FastifyRequest) => Promise<ApiPrincipal | undefined>;

export interface AuthOptions {
  db: Catalog;
  sessions?: SessionAuthenticator;
}

async function authenticate(options: AuthOptions, request: FastifyRequest): Promise<ApiPrincipal> {
  const { db } = options;
  const token = bearerToken(request);
  if (!token) {
    const fromSession = await options.sessions?.(request);
    if (fromSession) return fromSession;
    throw new ApiError(
      "UNAUTHENTICATED",
      "send an API token as `Authorization: Bearer <token>` (or sign in to the dashboard)",
    );
  }
  const principal = await authenticateApiToken(db, token);
  if (!principal) {
    throw new ApiError(
      "UNAUTHENTICATED",
      "the API token is unknown, expired or revoked; ask an admin for a new one (`pwdr-controller api-token create`)",
    );
  }
  return principal;
}

function authorize(principal: ApiPrincipal, needed: ApiTokenRole): void {
  if (RANK[principal.role] >= RANK[needed]) return;
  throw new ApiError(
    "FORBIDDEN",
    `this call needs the ${needed} role; token "${principal.name}" has the ${principal.role} role`,
  );
}

async function auth(app: FastifyInstance, options: AuthOptions): Promise<void> {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request) => {
    if (request.is404) return;
    const access = request.routeOptions.config.access;
    if (access === "public") return;
    if (!access) throw new Error(`route ${request.routeOptions.url} declares no access`);
    request.principal = await authenticate(options, request);
    authorize(request.principal, access);
  });
}

/** Bearer-token (or dashboard session) authentication and role checks, before the body is even parsed. */
export default fp(auth, { name: "pwdr-auth" });
