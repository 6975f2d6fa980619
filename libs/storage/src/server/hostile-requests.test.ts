import { createHash, randomBytes } from "node:crypto";
import type { CertificateWithKey } from "@pwdr/pki";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rawRequest } from "../test-support/raw-request.js";
import { type StorageFixture, startFixture } from "../test-support/storage-fixture.js";

const LIMIT = 1024 * 1024;
let fx: StorageFixture;
let admin: CertificateWithKey;

beforeAll(async () => {
  fx = await startFixture({
    repositories: ["site"],
    grants: { controller: [{ repository: "site", access: "admin" }] },
    maxFileBytes: LIMIT,
  });
  await (await fx.client("controller", "site")).create();
  admin = await fx.ca.issueClient("controller");
});

afterAll(() => fx.close());

function send(method: string, path: string, extra: Record<string, string> = {}, body?: Buffer | Buffer[]) {
  const tls = { ca: fx.ca.ca.certPem, cert: admin.certPem, key: admin.keyPem };
  return rawRequest(fx.server.url, tls, { ":method": method, ":path": path, ...extra }, body);
}

async function serverStillServes(): Promise<void> {
  const data = randomBytes(64);
  const name = createHash("sha256").update(data).digest("hex");
  expect((await send("PUT", `/v1/repos/site/index/${name}`, {}, data)).status).toBe(204);
  expect((await send("GET", `/v1/repos/site/index/${name}`)).status).toBe(200);
}

describe("the storage server under hostile requests", () => {
  it.each([
    ["GET", "/v1/repos/site/../../etc/passwd"],
    ["GET", "/v1/repos/site/data/..%2f..%2fetc%2fpasswd"],
    ["GET", "/v1/repos/../site/config/config"],
    ["GET", "/etc/passwd"],
    ["PUT", `/v1/repos/site/data/${"A".repeat(64)}`],
    ["PUT", "/v1/repos/site/config/other"],
    ["GET", `/v1/repos/site/tmp/${"a".repeat(64)}`],
    ["GET", `/v1/repos/site/data/${"a".repeat(64)}/extra`],
    ["GET", `/v1/repos/site/data/${"a".repeat(64)}?x=1`],
    ["PATCH", `/v1/repos/site/data/${"a".repeat(64)}`],
    ["DELETE", "/v1/repos/site/data/"],
  ])("answers %s %s with 400 invalid_argument and keeps serving", async (method, path) => {
    const answer = await send(method, path);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "invalid_argument" } });
    await serverStillServes();
  });

  it("refuses bodies over the limit, declared or streamed, and ranges it would have to allocate without bound", async () => {
    const path = `/v1/repos/site/data/${"b".repeat(64)}`;
    const declared = await send(
      "PUT",
      path,
      { "content-length": String(LIMIT + 1) },
      Buffer.alloc(LIMIT + 1),
    );
    expect(declared.status).toBe(400);
    const streamed = await send("PUT", path, {}, [Buffer.alloc(LIMIT), Buffer.alloc(LIMIT)]);
    expect(streamed.status).toBe(400);
    expect(JSON.parse(streamed.body).error.message).toContain("larger than the server's limit");
    for (const range of ["bytes=0-99999999999", "bytes=5-1", "bytes=-5", "lines=1-2"]) {
      expect((await send("GET", path, { range })).status, range).toBe(400);
    }
    expect((await send("HEAD", path)).status).toBe(404);
    await serverStillServes();
  });

  it("answers 500 without details when the authorize hook fails, tells onEvent, and answers the next request too", async () => {
    const failing = await startFixture({
      repositories: ["site"],
      grants: {},
      authorize: () => {
        throw new Error("catalog unreachable at /var/lib/pwdr/catalog.db");
      },
    });
    try {
      const backend = await failing.client("agent", "site");
      const failed = backend.load({ type: "config", name: "config" });
      await expect(failed).rejects.toMatchObject({ code: "backend_unavailable" });
      await expect(failed).rejects.not.toThrow(/catalog/);
      await expect(backend.stat({ type: "config", name: "config" })).rejects.toMatchObject({
        code: "backend_unavailable",
      });
      const internal = failing.events.filter((e) => e.kind === "internal_error" && e.client === "agent");
      expect(internal).toHaveLength(2);
    } finally {
      await failing.close();
    }
  });

  it("refuses at the TLS handshake a client whose certificate another CA signed, or that has none", async () => {
    const stranger = await fx.ca.unrelated.issueClient("controller");
    const withStranger = rawRequest(
      fx.server.url,
      { ca: fx.ca.ca.certPem, cert: stranger.certPem, key: stranger.keyPem },
      { ":method": "GET", ":path": "/v1/repos/site/config/config" },
    );
    await expect(withStranger).rejects.toThrow();
    const anonymous = rawRequest(
      fx.server.url,
      { ca: fx.ca.ca.certPem },
      { ":method": "GET", ":path": "/v1/repos/site/config/config" },
    );
    await expect(anonymous).rejects.toThrow();
    expect(fx.events.filter((e) => e.kind === "tls_refused").length).toBeGreaterThanOrEqual(1);
    await serverStillServes();
  });
});
