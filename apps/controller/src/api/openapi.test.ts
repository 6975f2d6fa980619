import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_ERROR_STATUS } from "./api-errors.js";
import { type ApiFixture, openApiFixture } from "./test-support/api-fixture.js";

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
  components: {
    schemas: Record<string, { properties: { error: { properties: { code: { enum: string[] } } } } }>;
  };
  security: unknown[];
}

describe("GET /api/v1/openapi.json", () => {
  let api: ApiFixture;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    api = await openApiFixture("sqlite");
    const response = await api.call("anonymous", { method: "GET", url: "/api/v1/openapi.json" });
    expect(response.statusCode).toBe(200);
    doc = response.json() as OpenApiDocument;
  });

  afterAll(async () => {
    await api?.close();
  });

  it("describes every route with bearer auth by default and a public health check", () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        "/api/v1/api-tokens",
        "/api/v1/api-tokens/{id}",
        "/api/v1/audit-events",
        "/api/v1/dr/drills",
        "/api/v1/dr/plans/run",
        "/api/v1/dr/restores",
        "/api/v1/dr/runs",
        "/api/v1/dr/runs/{id}",
        "/api/v1/dr/runs/{id}/cancel",
        "/api/v1/enrollment-tokens",
        "/api/v1/fleet/overview",
        "/api/v1/health",
        "/api/v1/hosts",
        "/api/v1/hosts/{id}",
        "/api/v1/hosts/{id}/revoke",
        "/api/v1/hosts/{id}/policy",
        "/api/v1/hosts/{id}/restore",
        "/api/v1/jobs",
        "/api/v1/jobs/{id}",
        "/api/v1/jobs/{id}/cancel",
        "/api/v1/policies",
        "/api/v1/policies/{id}",
        "/api/v1/recovery-points",
        "/api/v1/recovery-points/{id}",
        "/api/v1/session",
        "/api/v1/snapshots/{id}/tree",
      ].sort(),
    );
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/api/v1/health"]?.get?.security).toEqual([]);
    expect(doc.paths["/api/v1/session"]?.post?.security).toEqual([]);
  });

  it("documents the one error shape with every error code", () => {
    const codes = doc.components.schemas.ErrorBody?.properties.error.properties.code.enum;
    expect(codes?.sort()).toEqual(Object.keys(API_ERROR_STATUS).sort());
    expect(Object.keys(doc.paths["/api/v1/hosts"]?.get?.responses ?? {})).toEqual(["200", "4XX", "5XX"]);
  });
});
