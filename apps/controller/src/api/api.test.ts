import { createHash } from "node:crypto";
import type { ApiTokenRole } from "@pwdr/catalog";
import type { InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../api-tokens.js";
import type { LiveSession } from "../session-registry.js";
import { type ApiFixture, openApiFixture, type Provider } from "./test-support/api-fixture.js";

const providers: Provider[] = ["sqlite", "postgres"];
const ROLES: ApiTokenRole[] = ["viewer", "operator", "admin"];

interface RouteCase {
  name: string;
  method: "GET" | "POST" | "DELETE";
  url: string;
  body?: object;
  minRole: ApiTokenRole;
}

const ROUTES: RouteCase[] = [
  { name: "list hosts", method: "GET", url: "/api/v1/hosts", minRole: "viewer" },
  {
    name: "create enrollment token",
    method: "POST",
    url: "/api/v1/enrollment-tokens",
    body: {},
    minRole: "operator",
  },
  { name: "list API tokens", method: "GET", url: "/api/v1/api-tokens", minRole: "admin" },
  {
    name: "create API token",
    method: "POST",
    url: "/api/v1/api-tokens",
    body: { name: "matrix", role: "viewer" },
    minRole: "admin",
  },
  { name: "list audit events", method: "GET", url: "/api/v1/audit-events", minRole: "admin" },
  { name: "list policies", method: "GET", url: "/api/v1/policies", minRole: "viewer" },
  {
    name: "create policy",
    method: "POST",
    url: "/api/v1/policies",
    body: { name: "matrix" },
    minRole: "admin",
  },
];

function requestOf(route: RouteCase, body: object | undefined): InjectOptions {
  return { method: route.method, url: route.url, ...(body ? { body } : {}) };
}

function errorOf(response: { json(): unknown }) {
  return (response.json() as { error: { code: string; message: string; details?: { path: string }[] } })
    .error;
}

describe.each(providers)("REST API on %s", (provider) => {
  let api: ApiFixture;
  let hostId: string;
  const issuedSecrets: string[] = [];

  beforeAll(async () => {
    api = await openApiFixture(provider);
    issuedSecrets.push(...Object.values(api.tokens));
    const host = await api.db.host.create({
      data: {
        name: "pi-01",
        labels: { site: "lab" },
        site: "lab",
        state: "online",
        facts: { arch: "arm64" },
      },
    });
    hostId = host.id;
    await api.db.host.create({ data: { name: "pi-02", labels: {}, state: "offline" } });
  });

  afterAll(async () => {
    await api?.close();
  });

  describe("without a token", () => {
    it("GET /health answers ok", async () => {
      const response = await api.call("anonymous", { method: "GET", url: "/api/v1/health" });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ status: "ok" });
    });

    it("refuses every other route with 401 UNAUTHENTICATED and a Bearer challenge", async () => {
      for (const route of ROUTES) {
        const response = await api.call("anonymous", requestOf(route, route.body));
        expect(response.statusCode, route.name).toBe(401);
        expect(errorOf(response).code).toBe("UNAUTHENTICATED");
        expect(response.headers["www-authenticate"]).toMatch(/^Bearer/);
      }
    });

    it("refuses an unknown token, a malformed header and another scheme with 401", async () => {
      for (const authorization of [
        `Bearer pwdrapi1_${"x".repeat(43)}`,
        "Bearer",
        "Basic dXNlcjpwdw==",
        "nope",
      ]) {
        const response = await api.app.inject({
          method: "GET",
          url: "/api/v1/hosts",
          headers: { authorization },
        });
        expect(response.statusCode, authorization).toBe(401);
        expect(errorOf(response).code).toBe("UNAUTHENTICATED");
      }
    });

    it("refuses an expired token with 401", async () => {
      const expired = await createApiToken(api.db, { name: "expired", role: "admin", ttlMs: -1_000 });
      issuedSecrets.push(expired.token);
      const response = await api.app.inject({
        method: "GET",
        url: "/api/v1/hosts",
        headers: { authorization: `Bearer ${expired.token}` },
      });
      expect(response.statusCode).toBe(401);
    });
  });

  describe("roles", () => {
    it.each(ROUTES)("$name needs at least the $minRole role (403 FORBIDDEN below it)", async (route) => {
      for (const role of ROLES) {
        const body =
          route.body && "name" in route.body ? { ...route.body, name: `matrix-${role}` } : route.body;
        const response = await api.call(role, requestOf(route, body));
        const allowed = ROLES.indexOf(role) >= ROLES.indexOf(route.minRole);
        if (allowed) {
          expect(response.statusCode, `${role}: ${response.body}`).toBeLessThan(300);
          const token = (response.json() as { token?: string }).token;
          if (token) issuedSecrets.push(token);
        } else {
          expect(response.statusCode, role).toBe(403);
          expect(errorOf(response)).toMatchObject({ code: "FORBIDDEN" });
          expect(errorOf(response).message).toContain(`needs the ${route.minRole} role`);
        }
      }
    });
  });

  describe("hosts", () => {
    it("lists hosts by name and filters by state", async () => {
      const all = await api.call("viewer", { method: "GET", url: "/api/v1/hosts" });
      expect(all.json().hosts.map((h: { name: string }) => h.name)).toEqual(["pi-01", "pi-02"]);
      const online = await api.call("viewer", { method: "GET", url: "/api/v1/hosts?state=online" });
      expect(online.json().hosts).toEqual([
        expect.objectContaining({ name: "pi-01", labels: { site: "lab" } }),
      ]);
    });

    it("shows labels as stored, even keys a request could not set", async () => {
      const odd = await api.db.host.create({ data: { name: "pi-odd", labels: { "Odd Key": "v" } } });
      const response = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${odd.id}` });
      expect(response.json().labels).toEqual({ "Odd Key": "v" });
      await api.db.host.delete({ where: { id: odd.id } });
    });

    it("shows one host with its facts", async () => {
      const response = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${hostId}` });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ id: hostId, name: "pi-01", facts: { arch: "arm64" } });
    });

    it("answers 404 NOT_FOUND for an unknown host", async () => {
      const response = await api.call("viewer", { method: "GET", url: "/api/v1/hosts/nope" });
      expect(response.statusCode).toBe(404);
      expect(errorOf(response)).toEqual({ code: "NOT_FOUND", message: 'no host with id "nope"' });
    });

    it("revokes every certificate of a host, ends its session, lists it as revoked and audits the call", async () => {
      const host = await api.db.host.create({ data: { name: "pi-revoke", labels: {}, state: "online" } });
      const notAfter = new Date(Date.now() + 86_400_000);
      for (const n of [1, 2]) {
        await api.db.agentCertificate.create({
          data: { hostId: host.id, serial: `0${n}`, fingerprintSha256: `${n}`.repeat(64), notAfter },
        });
      }
      const closed: { code: number; reason: string }[] = [];
      // Like a real session, it leaves the registry once its stream has ended.
      const session: LiveSession = {
        sessionId: "s1",
        hostId: host.id,
        close: (code, reason) => {
          closed.push({ code, reason });
          api.sessions.remove(session);
        },
        send: () => {},
      };
      api.sessions.add(session, "replaced", 0);
      const url = `/api/v1/hosts/${host.id}/revoke`;
      expect((await api.call("viewer", { method: "POST", url })).statusCode).toBe(403);

      const response = await api.call("operator", { method: "POST", url });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({
        host: { id: host.id, revokedAt: expect.any(String) },
        revokedCertificates: 2,
        sessionClosed: true,
      });
      expect(closed).toEqual([{ code: 7, reason: expect.stringContaining("revoked") }]);
      const listed = await api.call("viewer", { method: "GET", url: "/api/v1/hosts" });
      const row = (listed.json().hosts as { name: string; revokedAt: string | null }[]).find(
        (h) => h.name === "pi-revoke",
      );
      expect(row?.revokedAt).toBe(response.json().host.revokedAt);
      const audited = await api.db.auditEvent.findFirst({
        where: { target: `host:${host.id}`, action: "host.revoke" },
        orderBy: { id: "desc" },
      });
      expect(audited).toMatchObject({ actor: "token:test-operator", details: { outcome: "success" } });

      const again = await api.call("admin", { method: "POST", url });
      expect(again.json()).toMatchObject({ revokedCertificates: 0, sessionClosed: false });
      await api.db.host.delete({ where: { id: host.id } });
    });

    it("shows a host with valid certificates, or none, as not revoked", async () => {
      const response = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${hostId}` });
      expect(response.json().revokedAt).toBeNull();
    });

    it("answers 404 NOT_FOUND when revoking an unknown host", async () => {
      const response = await api.call("operator", { method: "POST", url: "/api/v1/hosts/nope/revoke" });
      expect(response.statusCode).toBe(404);
      expect(errorOf(response)).toEqual({ code: "NOT_FOUND", message: 'no host with id "nope"' });
    });

    it("answers 400 VALIDATION_FAILED naming the bad query parameter", async () => {
      const response = await api.call("viewer", {
        method: "GET",
        url: "/api/v1/hosts?state=sleeping&color=red",
      });
      expect(response.statusCode).toBe(400);
      const error = errorOf(response);
      expect(error.code).toBe("VALIDATION_FAILED");
      expect(error.details?.map((d) => d.path)).toEqual(
        expect.arrayContaining(["querystring/state", "querystring/color"]),
      );
    });
  });

  describe("enrollment tokens", () => {
    it("returns the one-time token once and stores only its hash", async () => {
      const response = await api.call("operator", {
        method: "POST",
        url: "/api/v1/enrollment-tokens",
        body: { ttl: "15m", labels: { site: "lab" } },
      });
      expect(response.statusCode).toBe(201);
      const created = response.json() as { id: string; token: string; expiresAt: string };
      issuedSecrets.push(created.token);
      expect(created.token).toMatch(/^pwdr1\.[\w-]+\.(ab){32}$/);
      const row = await api.db.enrollmentToken.findUniqueOrThrow({ where: { id: created.id } });
      const secret = created.token.split(".")[1] ?? "";
      expect(row.tokenHash).toBe(createHash("sha256").update(secret).digest("hex"));
      expect(row).toMatchObject({ labels: { site: "lab" }, createdBy: "token:test-operator" });
      expect(new Date(created.expiresAt).getTime() - Date.now()).toBeGreaterThan(14 * 60_000);
    });

    it("rejects a bad ttl and unknown fields with details", async () => {
      const response = await api.call("operator", {
        method: "POST",
        url: "/api/v1/enrollment-tokens",
        body: { ttl: "forever", colour: "red", labels: { "bad key": "x" } },
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details?.map((d) => d.path)).toEqual(
        expect.arrayContaining(["body/ttl", "body/colour", "body/labels/bad key"]),
      );
    });
  });

  describe("API tokens", () => {
    it("creates a token that works at once for its role and lists it without any secret", async () => {
      const created = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        body: { name: "ci-nightly", role: "operator", ttl: "7d" },
      });
      expect(created.statusCode).toBe(201);
      const { token, id } = created.json() as { token: string; id: string };
      issuedSecrets.push(token);
      const asNew = await api.app.inject({
        method: "GET",
        url: "/api/v1/hosts",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(asNew.statusCode).toBe(200);
      const listed = await api.call("admin", { method: "GET", url: "/api/v1/api-tokens" });
      const row = (listed.json().tokens as Record<string, unknown>[]).find((t) => t.id === id);
      expect(row).toMatchObject({ name: "ci-nightly", role: "operator", revokedAt: null });
      expect(Object.keys(row ?? {}).sort()).toEqual(
        ["createdAt", "expiresAt", "id", "lastUsedAt", "name", "revokedAt", "role"].sort(),
      );
    });

    it("refuses a duplicate name with 409 CONFLICT", async () => {
      const response = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        body: { name: "test-viewer", role: "viewer" },
      });
      expect(response.statusCode).toBe(409);
      expect(errorOf(response).code).toBe("CONFLICT");
    });

    it("rejects an unknown role and a bad name with details", async () => {
      const response = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        body: { name: "Bad Name!", role: "root" },
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details?.map((d) => d.path)).toEqual(
        expect.arrayContaining(["body/name", "body/role"]),
      );
    });

    it("revokes a token so that its next request is refused", async () => {
      const victim = await createApiToken(api.db, { name: "to-revoke", role: "admin" });
      issuedSecrets.push(victim.token);
      const auth = { authorization: `Bearer ${victim.token}` };
      expect((await api.app.inject({ method: "GET", url: "/api/v1/hosts", headers: auth })).statusCode).toBe(
        200,
      );
      const revoked = await api.call("admin", { method: "DELETE", url: `/api/v1/api-tokens/${victim.id}` });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json().revokedAt).not.toBeNull();
      expect((await api.app.inject({ method: "GET", url: "/api/v1/hosts", headers: auth })).statusCode).toBe(
        401,
      );
    });

    it("answers 404 when revoking an unknown token", async () => {
      const response = await api.call("admin", { method: "DELETE", url: "/api/v1/api-tokens/nope" });
      expect(response.statusCode).toBe(404);
      expect(errorOf(response).code).toBe("NOT_FOUND");
    });
  });

  describe("policies", () => {
    const post = (body: object) => api.call("admin", { method: "POST", url: "/api/v1/policies", body });

    it("creates a policy under a parent and lists it", async () => {
      const parent = await post({ name: "fleet", schedule: "15 2 * * *", retention: { keepDaily: 7 } });
      expect(parent.statusCode, parent.body).toBe(201);
      const child = await post({
        name: "edge",
        parentId: parent.json().id,
        selector: { role: "edge" },
        sources: [
          { name: "piwardrive-db", kind: "postgres" },
          { name: "cache", kind: "redis" },
        ],
        retention: { keepLast: 3, within: "7d" },
        enabled: false,
      });
      expect(child.statusCode, child.body).toBe(201);
      expect(child.json()).toMatchObject({ parentId: parent.json().id, schedule: null, enabled: false });
      const listed = await api.call("viewer", { method: "GET", url: "/api/v1/policies" });
      const edge = (listed.json().policies as { name: string }[]).find((p) => p.name === "edge");
      expect(edge).toMatchObject({ selector: { role: "edge" }, retention: { keepLast: 3, within: "7d" } });
      const audited = await api.db.auditEvent.findFirst({ where: { target: `policy:${child.json().id}` } });
      expect(audited).toMatchObject({ actor: "token:test-admin", action: "policy.create" });
    });

    it("names each problem the schema cannot see: cron syntax, unknown parent, repeated source", async () => {
      const response = await post({
        name: "broken",
        schedule: "every night",
        parentId: "no-such-policy",
        sources: [
          { name: "db", kind: "postgres" },
          { name: "db", kind: "files" },
        ],
      });
      expect(response.statusCode).toBe(400);
      expect(
        errorOf(response)
          .details?.map((d) => d.path)
          .sort(),
      ).toEqual(["body/parentId", "body/schedule", "body/sources/1/name"].sort());
    });

    it("rejects an empty retention, an unknown source kind and unknown fields", async () => {
      const response = await post({
        name: "shapeless",
        retention: {},
        sources: [{ name: "x", kind: "mysql" }],
        owner: "me",
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).details?.map((d) => d.path)).toEqual(
        expect.arrayContaining(["body/retention", "body/sources/0/kind", "body/owner"]),
      );
    });

    it("refuses a taken name with 409", async () => {
      await post({ name: "twice" });
      const again = await post({ name: "twice" });
      expect(again.statusCode).toBe(409);
      expect(errorOf(again).code).toBe("CONFLICT");
    });
  });

  describe("audit", () => {
    it("records every mutating call with actor, action, target and outcome, denied ones included", async () => {
      const denied = await api.call("viewer", { method: "POST", url: "/api/v1/api-tokens", body: {} });
      expect(denied.statusCode).toBe(403);
      const created = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        body: { name: "audited", role: "viewer" },
      });
      issuedSecrets.push(created.json().token);
      const events = (await api.call("admin", { method: "GET", url: "/api/v1/audit-events?limit=2" })).json()
        .events as Record<string, unknown>[];
      expect(events[0]).toMatchObject({
        actor: "token:test-admin",
        action: "api-token.create",
        target: `api-token:${created.json().id}`,
        details: expect.objectContaining({ outcome: "success", status: 201 }),
      });
      expect(events[1]).toMatchObject({
        actor: "token:test-viewer",
        action: "api-token.create",
        details: expect.objectContaining({ outcome: "denied", status: 403, errorCode: "FORBIDDEN" }),
      });
    });

    it("filters by action and pages with before", async () => {
      const first = (
        await api.call("admin", { method: "GET", url: "/api/v1/audit-events?action=api-token.revoke" })
      ).json().events as { id: number; action: string }[];
      expect(first.length).toBeGreaterThan(0);
      expect(first.every((e) => e.action === "api-token.revoke")).toBe(true);
      const older = (
        await api.call("admin", { method: "GET", url: `/api/v1/audit-events?before=${first[0]?.id}&limit=1` })
      ).json().events as { id: number }[];
      expect(older[0]?.id).toBeLessThan(first[0]?.id ?? 0);
    });
  });

  describe("errors", () => {
    it("answers unknown routes with 404 ROUTE_NOT_FOUND in the same shape", async () => {
      const response = await api.call("anonymous", { method: "GET", url: "/api/v1/nothing-here" });
      expect(response.statusCode).toBe(404);
      expect(errorOf(response)).toEqual({
        code: "ROUTE_NOT_FOUND",
        message: "no route GET /api/v1/nothing-here",
      });
    });

    it("answers malformed JSON with 400 MALFORMED_BODY", async () => {
      const response = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        headers: { "content-type": "application/json" },
        payload: '{"name": ',
      });
      expect(response.statusCode).toBe(400);
      expect(errorOf(response).code).toBe("MALFORMED_BODY");
    });

    it("answers an oversized body with 413 and an unknown media type with 415", async () => {
      const big = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        body: { name: "big", role: "viewer", padding: "x".repeat(100_000) },
      });
      expect(big.statusCode).toBe(413);
      expect(errorOf(big).code).toBe("BODY_TOO_LARGE");
      const xml = await api.call("admin", {
        method: "POST",
        url: "/api/v1/api-tokens",
        headers: { "content-type": "application/xml" },
        payload: "<token/>",
      });
      expect(xml.statusCode).toBe(415);
      expect(errorOf(xml).code).toBe("UNSUPPORTED_MEDIA_TYPE");
    });
  });

  describe("secrets", () => {
    it("never appear in a later response, an audit row, a log line or the catalog", async () => {
      const creationResponses = api.bodies.filter((b) => issuedSecrets.some((s) => b.includes(s)));
      for (const body of creationResponses) {
        expect(issuedSecrets.filter((s) => body.includes(s))).toHaveLength(1);
        expect(body).toMatch(/"token":/);
      }
      const audit = JSON.stringify(await api.db.auditEvent.findMany());
      const [apiTokens, enrollmentTokens] = await Promise.all([
        api.db.apiToken.findMany(),
        api.db.enrollmentToken.findMany(),
      ]);
      const catalog = JSON.stringify([apiTokens, enrollmentTokens]);
      const laterBodies = api.bodies.filter((b) => !creationResponses.includes(b));
      for (const secret of issuedSecrets) {
        for (const text of [audit, catalog, ...api.logLines, ...laterBodies])
          expect(text).not.toContain(secret);
      }
      const storedHashes = [...apiTokens, ...enrollmentTokens].map((t) => t.tokenHash);
      for (const text of [audit, ...api.logLines, ...api.bodies]) {
        expect(text).not.toContain("tokenHash");
        for (const hash of storedHashes) expect(text).not.toContain(hash);
      }
    });
  });
});
