import type { Catalog } from "@pwdr/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture } from "./test-support/api-fixture.js";

const INTERNAL_DETAIL = "connection to 10.0.0.5 failed: password authentication failed";

// Host reads and health checks fail the way a broken database would; tokens still resolve.
function brokenHostsDb(db: Catalog): Catalog {
  const fail = () => Promise.reject(new Error(INTERNAL_DETAIL));
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === "host") return { findMany: fail, findUnique: fail };
      if (property === "$queryRaw") return fail;
      return Reflect.get(target, property, receiver);
    },
  });
}

describe("internal failures", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await openApiFixture("sqlite", brokenHostsDb);
  });

  afterAll(async () => {
    await api?.close();
  });

  it("answers 500 INTERNAL without internals and logs the cause with the request id", async () => {
    const response = await api.call("viewer", { method: "GET", url: "/api/v1/hosts" });
    expect(response.statusCode).toBe(500);
    const { error } = response.json() as { error: { code: string; message: string } };
    expect(error.code).toBe("INTERNAL");
    expect(response.body).not.toContain("password");
    const requestId = /request (\S+)\)/.exec(error.message)?.[1];
    const logged = api.logLines.find((line) => line.includes(INTERNAL_DETAIL));
    expect(logged).toContain(`"requestId":"${requestId}"`);
    expect(logged).not.toContain(api.tokens.viewer);
  });

  it("reports an unreachable catalog on /health as 503 UNAVAILABLE", async () => {
    const response = await api.call("anonymous", { method: "GET", url: "/api/v1/health" });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      error: { code: "UNAVAILABLE", message: "the catalog database is not reachable" },
    });
  });
});
