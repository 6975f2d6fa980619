import type { FastifyInstance } from "fastify";
import type { ControllerMetrics } from "./controller-metrics.js";

/**
 * GET /metrics in the Prometheus text format, for a viewer token sent as
 * `Authorization: Bearer` (Prometheus' `authorization` scrape setting). Not in
 * the OpenAPI document: it is not a JSON resource.
 */
export async function metricsRoute(app: FastifyInstance, options: { metrics: ControllerMetrics }) {
  app.get("/metrics", { config: { access: "viewer" }, schema: { hide: true } }, async (_request, reply) => {
    const text = await options.metrics.render();
    return reply.header("content-type", options.metrics.contentType).send(text);
  });
}
