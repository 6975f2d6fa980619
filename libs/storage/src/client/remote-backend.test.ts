import { createHash } from "node:crypto";
import { join } from "node:path";
import { runBackendSuite } from "@pwdr/repo/testing";
import { createTestCa, makeTempDir, type TestCa } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStorageServer } from "../server/storage-server.js";
import { type StorageFixture, startFixture } from "../test-support/storage-fixture.js";
import { RemoteBackend } from "./remote-backend.js";

let ca: TestCa;
const fixtures: StorageFixture[] = [];

beforeAll(async () => {
  ca = await createTestCa();
});

afterAll(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
});

runBackendSuite("RemoteBackend over mutual TLS", async () => {
  const fixture = await startFixture({
    ca,
    repositories: ["suite"],
    grants: { controller: [{ repository: "suite", access: "admin" }] },
  });
  fixtures.push(fixture);
  const backend = await fixture.client("controller", "suite");
  await backend.create();
  return backend;
});

describe("RemoteBackend", () => {
  it("reports a server that does not answer within the retry window as backend_unavailable, which may be retried", async () => {
    const fixture = await startFixture({ ca, repositories: ["r"], grants: {} });
    const url = fixture.server.url;
    await fixture.close();
    const identity = await ca.issueClient("controller");
    const backend = new RemoteBackend({
      url,
      ca: ca.ca.certPem,
      cert: identity.certPem,
      key: identity.keyPem,
      repository: "r",
      retryWindowMs: 600,
    });
    await expect(backend.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "backend_unavailable",
      retryable: true,
    });
  });

  it("waits out a server restart: a save made while the server is down lands once it is back", async () => {
    const fixture = await startFixture({
      ca,
      repositories: ["r"],
      grants: { controller: [{ repository: "r", access: "admin" }] },
    });
    const backend = await fixture.client("controller", "r");
    await backend.create();
    const { port } = fixture.server;
    await fixture.server.close();
    const serverCert = await ca.issueServer();
    const data = new TextEncoder().encode("saved across a restart");
    const name = createHash("sha256").update(data).digest("hex");
    const saving = backend.save({ type: "data", name }, data);
    await new Promise((r) => setTimeout(r, 700));
    const again = await startStorageServer({
      ca: ca.ca.certPem,
      cert: serverCert.certPem,
      key: serverCert.keyPem,
      port,
      repositories: fixture.roots,
      authorize: () => "admin",
    });
    try {
      await saving;
      expect((await backend.load({ type: "data", name })).toString()).toBe("saved across a restart");
    } finally {
      await backend.close();
      await again.close();
    }
  });

  it("fails as backend_unavailable when either side's certificate comes from another CA", async () => {
    const fixture = await startFixture({
      ca,
      repositories: ["r"],
      grants: { controller: [{ repository: "r", access: "admin" }] },
    });
    fixtures.push(fixture);
    const stranger = await ca.unrelated.issueClient("controller");
    const rejected = new RemoteBackend({
      url: fixture.server.url,
      ca: ca.ca.certPem,
      cert: stranger.certPem,
      key: stranger.keyPem,
      repository: "r",
    });
    await expect(rejected.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "backend_unavailable",
    });
    const trusted = await ca.issueClient("controller");
    const pinnedElsewhere = new RemoteBackend({
      url: fixture.server.url,
      ca: ca.unrelated.ca.certPem,
      cert: trusted.certPem,
      key: trusted.keyPem,
      repository: "r",
    });
    await expect(pinnedElsewhere.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "backend_unavailable",
      message: expect.stringContaining("certificate"),
    });
    expect(
      await (await fixture.client("controller", "r")).stat({ type: "config", name: "config" }),
    ).toBeUndefined();
  });

  it("queues requests beyond the server's limit of streams per client instead of failing them", async () => {
    const fixture = await startFixture({
      ca,
      repositories: ["busy"],
      grants: { controller: [{ repository: "busy", access: "admin" }] },
    });
    fixtures.push(fixture);
    const backend = await fixture.client("controller", "busy");
    await backend.create();
    const names = Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(64, "0"));
    await Promise.all(names.map((name) => backend.save({ type: "data", name }, Buffer.alloc(100_000, 1))));
    const loaded = await Promise.all(names.map((name) => backend.load({ type: "data", name })));
    expect(loaded.every((b) => b.length === 100_000)).toBe(true);
  });

  it("serves repositories a lookup finds while running, e.g. hosts enrolled after start", async () => {
    const dirs = new Map<string, string>();
    const cert = await ca.issueServer();
    const server = await startStorageServer({
      ca: ca.ca.certPem,
      cert: cert.certPem,
      key: cert.keyPem,
      repositories: async (name) => dirs.get(name),
      authorize: () => "admin",
    });
    const identity = await ca.issueClient("controller");
    const tls = { ca: ca.ca.certPem, cert: identity.certPem, key: identity.keyPem };
    const backend = new RemoteBackend({ ...tls, url: server.url, repository: "late" });
    try {
      await expect(backend.create()).rejects.toMatchObject({ code: "repo_not_found" });
      dirs.set("late", join(makeTempDir("storage-late"), "repo"));
      await backend.create();
      expect(await backend.stat({ type: "config", name: "config" })).toBeUndefined();
    } finally {
      await backend.close();
      await server.close();
    }
  });

  it("says there is no repository when its directory was never created", async () => {
    const fixture = await startFixture({
      ca,
      repositories: ["missing"],
      grants: { controller: [{ repository: "missing", access: "admin" }] },
    });
    fixtures.push(fixture);
    const backend = await fixture.client("controller", "missing");
    await expect(
      backend.save({ type: "index", name: "a".repeat(64) }, Buffer.from("x")),
    ).rejects.toMatchObject({
      code: "repo_not_found",
    });
    await expect(backend.save({ type: "index", name: "a".repeat(64) }, Buffer.from("x"))).rejects.not.toThrow(
      fixture.roots.missing as string,
    );
  });

  it("refuses URLs that are not https://host:port and repository names that are not plain", () => {
    const tls = { ca: "", cert: "", key: "" };
    expect(() => new RemoteBackend({ ...tls, url: "http://127.0.0.1:1", repository: "r" })).toThrow(/https/);
    expect(() => new RemoteBackend({ ...tls, url: "https://127.0.0.1:1/x", repository: "r" })).toThrow(
      /nothing after/,
    );
    expect(() => new RemoteBackend({ ...tls, url: "https://127.0.0.1:1", repository: "../r" })).toThrow(
      /repository name/,
    );
  });
});
