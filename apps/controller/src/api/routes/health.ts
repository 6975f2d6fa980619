import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import { Type } from "typebox";
import { ApiError } from "../api-errors.js";
import { errorResponses } from "../schemas/error.js";

/** Liveness for load balancers and the DR orchestrator: no token, no details beyond "ok". */
export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Catalog }> = async (app, { db }) => {
  app.get(
    "/health",
    {
      config: { access: "public" },
      schema: {
        summary: "Is the controller up and its catalog reachable?",
        tags: ["system"],
        security: [],
        response: { 200: Type.Object({ status: Type.Literal("ok") }), ...errorResponses },
      },
    },
    async () => {
      try {
        await db.$queryRaw`SELECT 1`;
      } catch {
        throw new ApiError("UNAVAILABLE", "the catalog database is not reachable");
      }
      return { status: "ok" as const };
    },
  );
};
