import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture } from "../test-support/api-fixture.js";

interface PolicyBody {
  id: string;
  name: string;
  scheduling: Record<string, unknown> | null;
  verification: Record<string, unknown> | null;
  schedule: string | null;
}

const errorOf = (response: { json(): unknown }) =>
  (
    response.json() as {
      error: { code: string; message: string; details?: { path: string; message: string }[] };
    }
  ).error;

describe("policy API", () => {
  let api: ApiFixture;
  let fleet: PolicyBody;
  let edge: PolicyBody;
  let hostId: string;

  const post = (body: object) => api.call("admin", { method: "POST", url: "/api/v1/policies", body });
  const patch = (id: string, body: object) =>
    api.call("admin", { method: "PATCH", url: `/api/v1/policies/${id}`, body });

  beforeAll(async () => {
    api = await openApiFixture("sqlite");
    hostId = (
      await api.db.host.create({ data: { name: "pi-01", labels: { role: "edge" }, state: "online" } })
    ).id;
    fleet = (
      await post({
        name: "fleet",
        schedule: "15 2 * * *",
        retention: { keepDaily: 7 },
        verification: { checkSchedule: "0 4 * * 0" },
        scheduling: { rpo: "26h", jitter: "30m", retry: { attempts: 4, initialDelay: "1m", maxDelay: "1h" } },
      })
    ).json();
    edge = (
      await post({
        name: "edge",
        parentId: fleet.id,
        selector: { role: "edge" },
        scheduling: { window: { start: "22:00", end: "04:00" } },
      })
    ).json();
  });

  afterAll(async () => {
    await api?.close();
  });

  it("shows one policy and the effective policy of a host with the origin of each field", async () => {
    const one = await api.call("viewer", { method: "GET", url: `/api/v1/policies/${edge.id}` });
    expect(one.json()).toMatchObject({
      name: "edge",
      scheduling: { window: { start: "22:00", end: "04:00" } },
    });
    const effective = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${hostId}/policy` });
    expect(effective.statusCode, effective.body).toBe(200);
    expect(effective.json()).toMatchObject({
      hostId,
      policy: { id: edge.id, name: "edge" },
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
      effective: {
        schedule: "15 2 * * *",
        retention: { keepDaily: 7 },
        scheduling: { window: { start: "22:00", end: "04:00" }, rpo: "26h", jitter: "30m" },
        verification: { checkSchedule: "0 4 * * 0" },
      },
      origins: {
        schedule: { policyName: "fleet" },
        "scheduling.window": { policyName: "edge" },
        "scheduling.rpo": { policyName: "fleet" },
      },
    });
    const missing = await api.call("viewer", { method: "GET", url: "/api/v1/policies/nope" });
    expect([missing.statusCode, errorOf(missing).code]).toEqual([404, "NOT_FOUND"]);
  });

  it("patches field by field: null clears a field so it inherits, and is audited", async () => {
    const changed = await patch(fleet.id, { scheduling: { jitter: null, rpo: "2d" }, schedule: "0 1 * * *" });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      schedule: "0 1 * * *",
      scheduling: { rpo: "2d", retry: { attempts: 4 } },
      verification: { checkSchedule: "0 4 * * 0" },
    });
    expect(changed.json().scheduling).not.toHaveProperty("jitter");
    const cleared = await patch(edge.id, { scheduling: null });
    expect(cleared.json().scheduling).toBeNull();
    const effective = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${hostId}/policy` });
    expect(effective.json().effective.scheduling).toEqual({ rpo: "2d", retry: expect.any(Object) });
    const audit = await api.db.auditEvent.findMany({ where: { action: "policy.update" } });
    expect(audit.map((a) => [a.actor, a.target])).toContainEqual(["token:test-admin", `policy:${fleet.id}`]);
    expect(
      (
        await api.call("operator", {
          method: "PATCH",
          url: `/api/v1/policies/${edge.id}`,
          body: { enabled: false },
        })
      ).statusCode,
    ).toBe(403);
  });

  it("names each bad field: crons, durations, windows, retries, and refuses parent cycles", async () => {
    const bad = await patch(fleet.id, {
      verification: { drillSchedule: "every sunday" },
      scheduling: {
        pruneSchedule: "61 * * * *",
        window: { start: "02:00", end: "02:00" },
        retry: { attempts: 2, initialDelay: "2h", maxDelay: "1h" },
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      errorOf(bad)
        .details?.map((d) => d.path)
        .sort(),
    ).toEqual([
      "body/scheduling/pruneSchedule",
      "body/scheduling/retry/maxDelay",
      "body/scheduling/window",
      "body/verification/drillSchedule",
    ]);
    const shape = await patch(fleet.id, {
      scheduling: { rpo: "soon", window: { start: "25:00", end: "04:00" } },
    });
    expect(shape.statusCode).toBe(400);
    expect(errorOf(shape).details?.map((d) => d.path)).toEqual(
      expect.arrayContaining(["body/scheduling/rpo", "body/scheduling/window/start"]),
    );
    const cycle = await patch(fleet.id, { parentId: edge.id });
    expect(cycle.statusCode).toBe(400);
    expect(errorOf(cycle).details).toEqual([
      { path: "body/parentId", message: "would make the policy its own ancestor (a cycle)" },
    ]);
    const self = await patch(edge.id, { parentId: edge.id });
    expect(errorOf(self).details?.[0]?.path).toBe("body/parentId");
  });

  it("refuses to delete a policy with children or unfinished jobs, then deletes it", async () => {
    const parent = await api.call("admin", { method: "DELETE", url: `/api/v1/policies/${fleet.id}` });
    expect([parent.statusCode, errorOf(parent).code]).toEqual([409, "CONFLICT"]);
    expect(errorOf(parent).message).toMatch(/1 child policy/);
    const job = await api.db.job.create({
      data: {
        kind: "backup",
        hostId,
        policyId: edge.id,
        scheduledFor: new Date(),
        idempotencyKey: "t/1",
        params: {},
      },
    });
    const busy = await api.call("admin", { method: "DELETE", url: `/api/v1/policies/${edge.id}` });
    expect([busy.statusCode, errorOf(busy).message]).toEqual([
      409,
      expect.stringMatching(/1 unfinished job/),
    ]);
    await api.db.job.update({ where: { id: job.id }, data: { state: "succeeded" } });
    const deleted = await api.call("admin", { method: "DELETE", url: `/api/v1/policies/${edge.id}` });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect((await api.db.job.findUniqueOrThrow({ where: { id: job.id } })).policyId).toBeNull();
    const audit = await api.db.auditEvent.findMany({
      where: { action: "policy.delete" },
      orderBy: { id: "asc" },
    });
    expect(audit.map((a) => (a.details as { outcome: string }).outcome)).toEqual([
      "rejected",
      "rejected",
      "success",
    ]);
  });

  it("shows each host's last backup and RPO breach", async () => {
    const breached = new Date("2026-11-20T04:00:00.000Z");
    await api.db.host.update({ where: { id: hostId }, data: { rpoBreachedSince: breached } });
    await api.db.recoveryPoint.create({
      data: { hostId, time: new Date("2026-11-19T02:00:00.000Z"), status: "complete", versions: {} },
    });
    await api.db.recoveryPoint.create({
      data: { hostId, time: new Date("2026-11-20T02:00:00.000Z"), status: "failed", versions: {} },
    });
    const list = await api.call("viewer", { method: "GET", url: "/api/v1/hosts" });
    expect(list.json().hosts[0]).toMatchObject({
      lastBackupAt: "2026-11-19T02:00:00.000Z",
      rpoBreachedSince: breached.toISOString(),
    });
    const one = await api.call("viewer", { method: "GET", url: `/api/v1/hosts/${hostId}` });
    expect(one.json()).toMatchObject({ lastBackupAt: "2026-11-19T02:00:00.000Z" });
  });
});
