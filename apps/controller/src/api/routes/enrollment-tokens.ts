import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import { parseDuration } from "../../duration.js";
import { createEnrollmentToken } from "../../enrollment-tokens.js";
import { CreatedEnrollmentToken, CreateEnrollmentTokenBody } from "../schemas/enrollment-token.js";
import { errorResponses } from "../schemas/error.js";

export interface EnrollmentTokenRouteOptions {
  db: Catalog;
  /** Pinned in every token so a new agent can check it reached this controller. */
  caFingerprint: string;
}

/** One-time tokens that let a new agent enroll. */
export const enrollmentTokenRoutes: FastifyPluginAsyncTypebox<EnrollmentTokenRouteOptions> = async (
  app,
  { db, caFingerprint },
) => {
  app.post(
    "/enrollment-tokens",
    {
      config: {
        access: "operator",
        audit: { action: "enrollment-token.create", targetKind: "enrollment-token" },
      },
      schema: {
        summary: "Create a one-time enrollment token",
        description: "The token is in this response only; the catalog keeps its hash.",
        tags: ["enrollment"],
        body: CreateEnrollmentTokenBody,
        response: { 201: CreatedEnrollmentToken, ...errorResponses },
      },
    },
    async (request, reply) => {
      const created = await createEnrollmentToken(db, caFingerprint, {
        ttlMs: parseDuration(request.body.ttl ?? "24h", "ttl"),
        labels: request.body.labels ?? {},
        createdBy: `token:${request.principal?.name}`,
      });
      request.auditTargetId = created.id;
      return reply.status(201).send({ ...created, expiresAt: created.expiresAt.toISOString() });
    },
  );
};
