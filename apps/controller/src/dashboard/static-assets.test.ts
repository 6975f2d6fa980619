import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture } from "../api/test-support/api-fixture.js";
import { CONTENT_SECURITY_POLICY } from "./static-assets.js";

const SCRIPT = "console.log('the dashboard');".repeat(20);

/** A dist/ as the dashboard build writes it: index.html, a hashed bundle, and their compressed copies. */
async function fakeBuild(): Promise<string> {
  const dist = await makeTempDir("pwdr-dashboard-dist-");
  mkdirSync(join(dist, "assets"));
  const files = {
    "index.html": '<!doctype html><script type="module" src="/assets/main-ABC123.js"></script>',
    "assets/main-ABC123.js": SCRIPT,
  };
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dist, name), body);
    writeFileSync(join(dist, `${name}.br`), brotliCompressSync(body));
    writeFileSync(join(dist, `${name}.gz`), gzipSync(body));
  }
  return dist;
}

describe("the dashboard's files, served by the API server", () => {
  let api: ApiFixture;
  let unbuilt: ApiFixture;

  beforeAll(async () => {
    api = await openApiFixture("sqlite", undefined, { dashboardDir: await fakeBuild() });
    unbuilt = await openApiFixture("sqlite", undefined, {
      dashboardDir: join(await makeTempDir("pwdr-no-dist-"), "dist"),
    });
  });

  afterAll(async () => {
    await api?.close();
    await unbuilt?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    api.app.inject({ method: "GET", url, headers });

  it("serves the page without a token, revalidated on every load, under a strict CSP", async () => {
    const page = await get("/");
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain("unsafe");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.body).toContain("/assets/main-ABC123.js");
    const again = await get("/", { "if-none-match": String(page.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
  });

  it("sends hashed bundles precompressed in the encoding the browser takes, cached as immutable", async () => {
    const br = await get("/assets/main-ABC123.js", { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(br.headers.vary).toBe("accept-encoding");
    expect(br.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(br.rawPayload.length).toBeLessThan(SCRIPT.length / 4);
    const gz = await get("/assets/main-ABC123.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    const plain = await get("/assets/main-ABC123.js", { "accept-encoding": "identity" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body).toBe(SCRIPT);
    expect((await get("/assets/main-OTHER.js")).statusCode).toBe(404);
  });

  it("says how to build the dashboard when it is not built, and the API keeps working", async () => {
    const page = await unbuilt.app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain("npm run build");
    expect(unbuilt.logLines.some((l) => l.includes("dashboard not built"))).toBe(true);
    const health = await unbuilt.app.inject({ method: "GET", url: "/api/v1/health" });
    expect(health.statusCode).toBe(200);
  });
});
