import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture } from "../api/test-support/api-fixture.js";
import { createApiToken, revokeApiToken } from "../api-tokens.js";
import { DashboardSessions } from "./dashboard-sessions.js";

const CSRF = { "x-pwdr-csrf": "1" };

describe("dashboard sessions: an API token traded for a session cookie", () => {
  let api: ApiFixture;

  beforeAll(async () => {
    api = await openApiFixture("sqlite");
  });

  afterAll(async () => {
    await api?.close();
  });

  const signIn = (token: string, headers: Record<string, string> = CSRF) =>
    api.app.inject({ method: "POST", url: "/api/v1/session", headers, payload: { token } });

  function cookieOf(response: LightMyRequestResponse): string {
    const header = response.headers["set-cookie"];
    expect(typeof header).toBe("string");
    return String(header).split(";")[0] as string;
  }

  const withCookie = (cookie: string, method: "GET" | "POST" | "DELETE", url: string, extra = {}) =>
    api.app.inject({
      method,
      url,
      ...extra,
      headers: { cookie, ...((extra as { headers?: object }).headers ?? {}) },
    });

  async function auditOf(action: string) {
    return api.db.auditEvent.findMany({ where: { action }, orderBy: { id: "desc" } });
  }

  it("answers an HttpOnly, Secure, SameSite=Strict cookie, never the token, and the cookie authenticates reads", async () => {
    const response = await signIn(api.tokens.operator);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ name: "test-operator", role: "operator" });
    expect(response.body).not.toContain(api.tokens.operator);
    expect(response.headers["set-cookie"]).toMatch(
      /^__Host-pwdr_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; Secure; SameSite=Strict$/,
    );
    const cookie = cookieOf(response);
    expect((await withCookie(cookie, "GET", "/api/v1/hosts")).statusCode).toBe(200);
    const who = await withCookie(cookie, "GET", "/api/v1/session");
    expect(who.json()).toMatchObject({ name: "test-operator", role: "operator" });
    expect(Date.parse(who.json().expiresAt)).toBeGreaterThan(Date.now());
    const [event] = await auditOf("session.create");
    expect(event).toMatchObject({ actor: "token:test-operator", details: { outcome: "success" } });
  });

  it("refuses a change signed only by the cookie (cross-site) and accepts it with the CSRF header", async () => {
    const cookie = cookieOf(await signIn(api.tokens.operator));
    const before = await api.db.enrollmentToken.count();
    const refused = await withCookie(cookie, "POST", "/api/v1/enrollment-tokens", { payload: {} });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({ code: "FORBIDDEN" });
    expect(refused.json().error.message).toContain("x-pwdr-csrf");
    expect(await api.db.enrollmentToken.count()).toBe(before);
    const accepted = await withCookie(cookie, "POST", "/api/v1/enrollment-tokens", {
      payload: {},
      headers: CSRF,
    });
    expect(accepted.statusCode).toBe(201);
  });

  it("refuses a sign-in without the CSRF header or with a bad token, setting no cookie", async () => {
    const noHeader = await signIn(api.tokens.admin, {});
    expect(noHeader.statusCode).toBe(403);
    expect(noHeader.headers["set-cookie"]).toBeUndefined();
    const bad = await signIn(`pwdrapi1_${"x".repeat(43)}`);
    expect(bad.statusCode).toBe(401);
    expect(bad.headers["set-cookie"]).toBeUndefined();
    const [event] = await auditOf("session.create");
    expect(event).toMatchObject({ actor: "anonymous", details: { outcome: "denied" } });
  });

  it("keeps the token's role: a viewer's session cannot queue jobs", async () => {
    const cookie = cookieOf(await signIn(api.tokens.viewer));
    const response = await withCookie(cookie, "POST", "/api/v1/jobs", {
      payload: { hostId: "nope", kind: "backup" },
      headers: CSRF,
    });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.message).toContain("operator role");
  });

  it("judges a request with a bearer token by the token, whatever cookie it carries", async () => {
    const cookie = cookieOf(await signIn(api.tokens.admin));
    const response = await api.call("viewer", { method: "GET", url: "/api/v1/session", headers: { cookie } });
    expect(response.json()).toMatchObject({ name: "test-viewer", role: "viewer", expiresAt: null });
  });

  it("ends the session on sign-out: the same cookie is refused from then on", async () => {
    const cookie = cookieOf(await signIn(api.tokens.operator));
    const out = await withCookie(cookie, "DELETE", "/api/v1/session", { headers: CSRF });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ ended: true });
    expect(out.headers["set-cookie"]).toContain("Max-Age=0");
    const after = await withCookie(cookie, "GET", "/api/v1/hosts");
    expect(after.statusCode).toBe(401);
    expect((await auditOf("session.delete"))[0]).toMatchObject({ actor: "token:test-operator" });
  });

  it("refuses a sign-out signed only by the cookie, which keeps the session", async () => {
    const cookie = cookieOf(await signIn(api.tokens.operator));
    expect((await withCookie(cookie, "DELETE", "/api/v1/session")).statusCode).toBe(403);
    expect((await withCookie(cookie, "GET", "/api/v1/hosts")).statusCode).toBe(200);
  });

  it("ends the sessions of a token as soon as it is revoked", async () => {
    const token = await createApiToken(api.db, { name: "soon-revoked", role: "admin" });
    const cookie = cookieOf(await signIn(token.token));
    expect((await withCookie(cookie, "GET", "/api/v1/hosts")).statusCode).toBe(200);
    await revokeApiToken(api.db, token.id);
    expect((await withCookie(cookie, "GET", "/api/v1/hosts")).statusCode).toBe(401);
  });

  it("lets a session last its lifetime at most, and never beyond its token's expiry", async () => {
    let now = new Date("2026-11-26T10:00:00Z");
    const sessions = new DashboardSessions({ db: api.db, ttlMs: 60_000, now: () => now });
    const token = await createApiToken(api.db, { name: "short-lived", role: "viewer" });
    const session = sessions.create(token.id, null);
    expect(session).toMatchObject({ expiresAt: new Date("2026-11-26T10:01:00Z"), maxAgeMs: 60_000 });
    expect((await sessions.resolve(session.id))?.principal.name).toBe("short-lived");
    now = new Date("2026-11-26T10:01:00Z");
    expect(await sessions.resolve(session.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
    const capped = sessions.create(token.id, new Date("2026-11-26T10:01:30Z"));
    expect(capped).toMatchObject({ expiresAt: new Date("2026-11-26T10:01:30Z"), maxAgeMs: 30_000 });
    expect(await sessions.resolve("not-a-session")).toBeUndefined();
  });
});
