import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { ApiError } from "../api/api-errors.js";
import { errorResponses } from "../api/schemas/error.js";
import { authenticateApiToken } from "../api-tokens.js";
import type { DashboardSessions } from "./dashboard-sessions.js";
import { CSRF_HEADER, clearedSessionCookie, sessionCookie, sessionIdOf } from "./session-cookie.js";

const SessionView = Type.Object(
  {
    name: Type.String({ description: "The API token's name" }),
    role: Type.Enum(["viewer", "operator", "admin"]),
    expiresAt: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
      description: "When the dashboard session ends; null for a bearer token",
    }),
  },
  { description: "Who is signed in (never the token)" },
);

const SignInBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 256, description: "An API token" }) },
  { additionalProperties: false },
);

function requireCsrfHeader(request: FastifyRequest): void {
  // Also on sign-in: another site must not be able to sign a browser in with its own token.
  if (request.headers[CSRF_HEADER] === undefined) {
    throw new ApiError(
      "FORBIDDEN",
      `sign-in must carry the ${CSRF_HEADER} header (cross-site request refused)`,
    );
  }
}

/** Dashboard sign-in and sign-out: an API token is traded once for an HttpOnly session cookie. */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ db: Catalog; sessions: DashboardSessions }> = async (
  app,
  { db, sessions },
) => {
  app.post(
    "/session",
    {
      config: { access: "public", audit: { action: "session.create", targetKind: "api-token" } },
      schema: {
        summary: "Sign in to the dashboard with an API token",
        description:
          "Answers a session cookie (HttpOnly, Secure, SameSite=Strict) bound to the token; the token is not " +
          `kept. Requests signed by the cookie that change something must carry the ${CSRF_HEADER} header.`,
        tags: ["dashboard"],
        security: [],
        body: SignInBody,
        response: { 200: SessionView, ...errorResponses },
      },
    },
    async (request, reply) => {
      requireCsrfHeader(request);
      const principal = await authenticateApiToken(db, request.body.token);
      if (!principal) throw new ApiError("UNAUTHENTICATED", "the API token is unknown, expired or revoked");
      request.principal = principal;
      request.auditTargetId = principal.tokenId;
      const token = await db.apiToken.findUniqueOrThrow({ where: { id: principal.tokenId } });
      const session = sessions.create(principal.tokenId, token.expiresAt);
      reply.header("set-cookie", sessionCookie(session.id, session.maxAgeMs));
      return { name: principal.name, role: principal.role, expiresAt: session.expiresAt.toISOString() };
    },
  );

  app.get(
    "/session",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Who is signed in",
        tags: ["dashboard"],
        response: { 200: SessionView, ...errorResponses },
      },
    },
    async (request) => {
      const principal = request.principal as NonNullable<typeof request.principal>;
      const id = sessionIdOf(request);
      const session = id && !request.headers.authorization ? await sessions.resolve(id) : undefined;
      return {
        name: principal.name,
        role: principal.role,
        expiresAt: session ? session.expiresAt.toISOString() : null,
      };
    },
  );

  app.delete(
    "/session",
    {
      config: { access: "viewer", audit: { action: "session.delete", targetKind: "api-token" } },
      schema: {
        summary: "Sign out: end the dashboard session",
        tags: ["dashboard"],
        response: { 200: Type.Object({ ended: Type.Boolean() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const id = sessionIdOf(request);
      request.auditTargetId = request.principal?.tokenId ?? null;
      reply.header("set-cookie", clearedSessionCookie());
      return { ended: id ? sessions.end(id) : false };
    },
  );
};
