import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import { Type } from "typebox";
import {
  ApiTokenNameTakenError,
  type ApiTokenSummary,
  createApiToken,
  listApiTokens,
  revokeApiToken,
} from "../../api-tokens.js";
import { parseDuration } from "../../duration.js";
import { ApiError, notFound } from "../api-errors.js";
import { ApiTokenView, CreateApiTokenBody, CreatedApiTokenView } from "../schemas/api-token.js";
import { IdParams, isoOrNull } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";

function toView(token: ApiTokenSummary) {
  return {
    id: token.id,
    name: token.name,
    role: token.role,
    createdAt: token.createdAt.toISOString(),
    expiresAt: isoOrNull(token.expiresAt),
    lastUsedAt: isoOrNull(token.lastUsedAt),
    revokedAt: isoOrNull(token.revokedAt),
  };
}

/** API tokens: admins create, list and revoke them; the secret is shown once, at creation. */
export const apiTokenRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/api-tokens",
    {
      config: { access: "admin" },
      schema: {
        summary: "List API tokens (never their secrets)",
        tags: ["api-tokens"],
        response: { 200: Type.Object({ tokens: Type.Array(ApiTokenView) }), ...errorResponses },
      },
    },
    async () => ({ tokens: (await listApiTokens(db)).map(toView) }),
  );

  app.post(
    "/api-tokens",
    {
      config: { access: "admin", audit: { action: "api-token.create", targetKind: "api-token" } },
      schema: {
        summary: "Create an API token",
        description: "The token is in this response only; the catalog keeps its SHA-256.",
        tags: ["api-tokens"],
        body: CreateApiTokenBody,
        response: { 201: CreatedApiTokenView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { name, role, ttl } = request.body;
      try {
        const created = await createApiToken(db, {
          name,
          role,
          ...(ttl ? { ttlMs: parseDuration(ttl, "ttl") } : {}),
        });
        request.auditTargetId = created.id;
        return reply.status(201).send({ ...toView(created), token: created.token });
      } catch (err) {
        if (err instanceof ApiTokenNameTakenError) throw new ApiError("CONFLICT", err.message);
        throw err;
      }
    },
  );

  app.delete(
    "/api-tokens/:id",
    {
      config: { access: "admin", audit: { action: "api-token.revoke", targetKind: "api-token" } },
      schema: {
        summary: "Revoke an API token (effective on the next request)",
        tags: ["api-tokens"],
        params: IdParams,
        response: { 200: ApiTokenView, ...errorResponses },
      },
    },
    async (request) => {
      const revoked = await revokeApiToken(db, request.params.id);
      if (!revoked) throw notFound("API token", request.params.id);
      return toView(revoked);
    },
  );
};
