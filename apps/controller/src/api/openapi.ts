import swagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

async function openApi(app: FastifyInstance, options: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "PWDR controller API",
        version: options.version,
        description: "Fleet backup and disaster recovery. Errors always have the ErrorBody shape.",
      },
      components: {
        securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "An API token" } },
      },
      security: [{ bearerAuth: [] }],
    },
    // Shared schemas appear under their own $id ("ErrorBody") rather than "def-0".
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
}

/**
 * Collects every route's schema into an OpenAPI 3.1 document; registered
 * before the routes so that it sees them all. Served by `openApiRoute`.
 */
export default fp(openApi, { name: "pwdr-openapi" });

export async function openApiRoute(app: FastifyInstance): Promise<void> {
  app.get("/openapi.json", { config: { access: "public" }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
}
