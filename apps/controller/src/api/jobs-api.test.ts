import type { Job } from "@pwdr/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveProgress } from "../jobs/live-progress.js";
import { specMessage } from "../scheduling/job-message.js";
import type { ControllerMessageBody, LiveSession } from "../session-registry.js";
import { type ApiFixture, openApiFixture, type Provider } from "./test-support/api-fixture.js";

const providers: Provider[] = ["sqlite", "postgres"];

function errorOf(response: { json(): unknown }) {
  return (response.json() as { error: { code: string; message: string; details?: { path: string }[] } })
    .error;
}

describe.each(providers)("jobs and recovery points API on %s", (provider) => {
  let api: ApiFixture;
  const created: Job[] = [];
  const progress = new LiveProgress();
  let hostId: string;
  let otherHostId: string;

  beforeAll(async () => {
    api = await openApiFixture(provider, undefined, { progress, onJobCreated: (job) => created.push(job) });
    hostId = (await api.db.host.create({ data: { name: "pi-jobs", labels: {} } })).id;
    otherHostId = (await api.db.host.create({ data: { name: "pi-jobs-other", labels: {} } })).id;
  });

  afterAll(async () => {
    await api?.close();
  });

  const post = (url: string, body: object, headers: Record<string, string> = {}) =>
    api.call("operator", { method: "POST", url, body, headers });

  it("queues a job for the dispatcher, only for operators, once per Idempotency-Key", async () => {
    const body = { hostId, kind: "backup", spec: { sources: ["piwardrive-db"] } };
    expect((await api.call("viewer", { method: "POST", url: "/api/v1/jobs", body })).statusCode).toBe(403);
    const first = await post("/api/v1/jobs", body, { "idempotency-key": "nightly-42" });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      kind: "backup",
      hostId,
      state: "pending",
      createdBy: "token:test-operator",
      idempotencyKey: "op/nightly-42",
      params: { spec: { sources: ["piwardrive-db"] } },
    });
    const again = await post("/api/v1/jobs", body, { "idempotency-key": "nightly-42" });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    expect(created.map((j) => j.id)).toEqual([first.json().id]);

    const reused = await post(
      "/api/v1/jobs",
      { ...body, kind: "verify", spec: {} },
      { "idempotency-key": "nightly-42" },
    );
    expect(reused.statusCode).toBe(409);
    expect(errorOf(reused).message).toContain("use a new key");
    const audit = await api.db.auditEvent.findMany({ where: { action: "job.create" } });
    expect(audit.map((a) => a.target)).toContain(`job:${first.json().id}`);
  });

  it("checks the spec against the kind and the host, with the one error shape", async () => {
    const cases: [object, number, string][] = [
      [{ hostId, kind: "restore", spec: {} }, 400, "body/spec"],
      [{ hostId, kind: "backup", spec: { sorces: ["x"] } }, 400, "body/spec"],
      [{ hostId, kind: "service", spec: { action: "reboot" } }, 400, "body/spec/action"],
      [{ hostId, kind: "format-disk", spec: {} }, 400, "body/kind"],
      [{ hostId: "no-such-host", kind: "backup", spec: {} }, 404, ""],
      [{ hostId, kind: "restore", spec: { recoveryPointId: "nope" } }, 404, ""],
    ];
    for (const [body, status, path] of cases) {
      const response = await post("/api/v1/jobs", body);
      expect(response.statusCode, response.body).toBe(status);
      if (path) expect(errorOf(response).details?.map((d) => d.path)).toContain(path);
    }
    const malformed = await api.call("operator", {
      method: "POST",
      url: "/api/v1/jobs",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(malformed.statusCode).toBe(400);
    expect((await api.call("viewer", { method: "GET", url: "/api/v1/jobs?limit=zero" })).statusCode).toBe(
      400,
    );

    const retired = await api.db.host.create({
      data: { name: "pi-retired", labels: {}, state: "decommissioned" },
    });
    const refused = await post("/api/v1/jobs", { hostId: retired.id, kind: "backup", spec: {} });
    expect(refused.statusCode).toBe(409);
    expect(errorOf(refused).message).toContain("decommissioned");
  });

  it("lists jobs newest first with filters and a cursor", async () => {
    const ids: string[] = [];
    for (const kind of ["verify", "backup", "verify"]) {
      ids.push((await post("/api/v1/jobs", { hostId: otherHostId, kind, spec: {} })).json().id);
    }
    const list = (query: string) => api.call("viewer", { method: "GET", url: `/api/v1/jobs?${query}` });
    const first = (await list("host=pi-jobs-other&limit=2")).json();
    expect(first.jobs.map((j: Job) => j.id)).toEqual([ids[2], ids[1]]);
    const second = (await list(`host=pi-jobs-other&limit=2&cursor=${first.nextCursor}`)).json();
    expect(second).toEqual({ jobs: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    const verifies = (await list(`host=${otherHostId}&kind=verify&state=pending`)).json();
    expect(verifies.jobs.map((j: Job) => j.id)).toEqual([ids[2], ids[0]]);
  });

  it("shows a job with its runs and the live progress of the running one", async () => {
    const job = (await post("/api/v1/jobs", { hostId, kind: "backup", spec: {} })).json();
    await api.db.job.update({ where: { id: job.id }, data: { state: "running" } });
    await api.db.jobRun.create({
      data: { jobId: job.id, hostId, startedAt: new Date(), idempotencyKey: "run-live", bytesRead: 10n },
    });
    progress.update(hostId, {
      runId: "run-live",
      jobId: job.id,
      phase: "postgres",
      bytesDone: 300,
      bytesTotal: 1000,
      itemsDone: 0,
      itemsTotal: 0,
      currentItem: "",
      at: new Date().toISOString(),
    });
    const shown = await api.call("viewer", { method: "GET", url: `/api/v1/jobs/${job.id}` });
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toMatchObject({
      id: job.id,
      runs: [{ runId: "run-live", state: "running", bytesRead: 10 }],
      liveProgress: { phase: "postgres", bytesDone: 300, bytesTotal: 1000 },
    });
    expect((await api.call("viewer", { method: "GET", url: "/api/v1/jobs/nope" })).statusCode).toBe(404);
  });

  it("cancels a pending job at once and asks the agent to stop a running one", async () => {
    const pending = (await post("/api/v1/jobs", { hostId, kind: "backup", spec: {} })).json();
    const cancelled = await post(`/api/v1/jobs/${pending.id}/cancel`, {});
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({
      cancelledNow: true,
      sentToAgent: false,
      job: { state: "cancelled" },
    });
    expect((await post(`/api/v1/jobs/${pending.id}/cancel`, {})).statusCode).toBe(409);

    const sent: ControllerMessageBody[] = [];
    const session: LiveSession = {
      sessionId: "s-cancel",
      hostId,
      close: () => {},
      send: (m) => sent.push(m) > 0,
    };
    api.sessions.add(session, "replaced", 0);
    const running = (await post("/api/v1/jobs", { hostId, kind: "backup", spec: {} })).json();
    await api.db.job.update({ where: { id: running.id }, data: { state: "running" } });
    const asked = await post(`/api/v1/jobs/${running.id}/cancel`, {});
    expect(asked.json()).toMatchObject({ cancelledNow: false, sentToAgent: true, job: { state: "running" } });
    expect(sent).toEqual([
      {
        case: "cancel",
        value: { jobId: running.id, reason: "cancellation requested by token:test-operator" },
      },
    ]);
    api.sessions.remove(session);
    expect((await post("/api/v1/jobs/nope/cancel", {})).statusCode).toBe(404);
    const audit = await api.db.auditEvent.count({
      where: { action: "job.cancel", target: `job:${running.id}` },
    });
    expect(audit).toBe(1);
  });

  it("lists recovery points and restores the newest complete one by default", async () => {
    const none = await post(`/api/v1/hosts/${otherHostId}/restore`, {});
    expect(none.statusCode).toBe(404);
    expect(errorOf(none).message).toContain("no complete recovery point");

    const repo = await api.db.repository.create({
      data: {
        name: hostId,
        kind: "controller",
        location: hostId,
        passwordCiphertext: new Uint8Array(),
        passwordKeyId: "k",
      },
    });
    const point = (id: string, status: string, host = hostId) =>
      api.db.recoveryPoint.create({
        data: {
          id,
          hostId: host,
          status,
          versions: {},
          time: new Date(id.slice(0, 8).replace(/(\d{4})(\d\d)(\d\d)/, "$1-$2-$3")),
        },
      });
    await point("20261101T020000Z-000001", "complete");
    await point("20261102T020000Z-000002", "complete");
    await point("20261103T020000Z-000003", "failed");
    await point("20261104T020000Z-000004", "complete", otherHostId);
    await api.db.snapshot.create({
      data: {
        repositoryId: repo.id,
        snapshotId: "snap-db",
        recoveryPointId: "20261102T020000Z-000002",
        hostId,
        sourceName: "piwardrive-db",
        sourceKind: "postgres",
        time: new Date(),
        sizeBytes: 1234n,
        addedBytes: 12n,
        fileCount: 1,
        status: "complete",
      },
    });

    const listed = await api.call("viewer", {
      method: "GET",
      url: "/api/v1/recovery-points?host=pi-jobs&status=complete",
    });
    expect(listed.json().recoveryPoints.map((p: { id: string }) => p.id)).toEqual([
      "20261102T020000Z-000002",
      "20261101T020000Z-000001",
    ]);
    const shown = await api.call("viewer", {
      method: "GET",
      url: "/api/v1/recovery-points/20261102T020000Z-000002",
    });
    expect(shown.json()).toMatchObject({
      hostName: "pi-jobs",
      snapshotCount: 1,
      snapshots: [{ repository: hostId, snapshotId: "snap-db", sourceKind: "postgres", sizeBytes: 1234 }],
    });

    const restore = await post(`/api/v1/hosts/${hostId}/restore`, {
      dryRun: true,
      sources: ["piwardrive-db"],
    });
    expect(restore.statusCode, restore.body).toBe(201);
    expect(restore.json()).toMatchObject({
      kind: "restore",
      state: "pending",
      params: {
        spec: { recoveryPointId: "20261102T020000Z-000002", dryRun: true, sources: ["piwardrive-db"] },
      },
    });
    const failed = await post(`/api/v1/hosts/${hostId}/restore`, {
      recoveryPointId: "20261103T020000Z-000003",
    });
    expect(failed.statusCode).toBe(409);
    const foreign = await post(`/api/v1/hosts/${hostId}/restore`, {
      recoveryPointId: "20261104T020000Z-000004",
    });
    expect(foreign.statusCode).toBe(409);
    expect(errorOf(foreign).message).toContain("another host");
    expect(await api.db.auditEvent.count({ where: { action: "restore.start" } })).toBe(3 + 1);
  });

  it("restores chosen paths of one config or files source, and refuses an include that cannot work", async () => {
    const pointId = "20261102T020000Z-000002";
    const repositoryId = (await api.db.repository.findFirstOrThrow({ where: { name: hostId } })).id;
    for (const [sourceName, sourceKind] of [
      ["app-data", "files"],
      ["app-config", "config"],
    ]) {
      await api.db.snapshot.create({
        data: {
          repositoryId,
          snapshotId: `snap-${sourceName}`,
          recoveryPointId: pointId,
          hostId,
          sourceName: sourceName as string,
          sourceKind: sourceKind as string,
          time: new Date(),
          sizeBytes: 10n,
          addedBytes: 1n,
          fileCount: 2,
          status: "complete",
        },
      });
    }
    const include = ["/data/scans/2026-11-01", "/data/scans/notes.txt"];
    const restore = await post(`/api/v1/hosts/${hostId}/restore`, {
      sources: ["app-data"],
      include,
      targetPrefix: "/var/tmp/restore",
    });
    expect(restore.statusCode, restore.body).toBe(201);
    const spec = restore.json().params.spec;
    expect(spec).toMatchObject({ recoveryPointId: pointId, sources: ["app-data"], include });
    expect(specMessage("restore", spec, "")).toMatchObject({ case: "restore", value: { include } });

    const refusals: [object, string, RegExp][] = [
      [{ include }, "body/sources", /exactly one source.*app-config \(config\), app-data \(files\)/],
      [{ sources: ["app-data", "app-config"], include }, "body/sources", /exactly one source/],
      [{ sources: ["piwardrive-db"], include }, "body/include", /"piwardrive-db" is postgres.*no sub-paths/],
      [{ sources: ["gone"], include }, "body/sources/0", /has no source "gone"/],
      [{ sources: ["app-data"], include: ["data/scans"] }, "body/include/0", /absolute/],
      [{ sources: ["app-data"], include: ["/data/../etc/shadow"] }, "body/include/0", /"\.\."/],
      [{ sources: ["app-data"], include: ["/data/./x"] }, "body/include/0", /"\."/],
      [{ sources: ["app-data"], include: ["/a", "/a"] }, "body/include", /duplicate/],
      [{ sources: ["app-data"], include: [`/${"x".repeat(4096)}`] }, "body/include/0", /4096/],
      [
        { sources: ["app-data"], include: Array.from({ length: 65 }, (_, i) => `/d/${i}`) },
        "body/include",
        /64/,
      ],
    ];
    for (const [body, path, message] of refusals) {
      const refused = await post(`/api/v1/hosts/${hostId}/restore`, body);
      expect(refused.statusCode, JSON.stringify(body).slice(0, 200)).toBe(400);
      const detail = errorOf(refused).details?.find((d) => d.path === path) as
        | { message: string }
        | undefined;
      expect(detail?.message, refused.body.slice(0, 400)).toMatch(message);
    }
    // The same checks through the generic jobs route, below body/spec.
    const viaJobs = await post("/api/v1/jobs", {
      hostId,
      kind: "restore",
      spec: { recoveryPointId: pointId, sources: ["app-data"], include: ["relative/path"] },
    });
    expect(viaJobs.statusCode).toBe(400);
    expect(errorOf(viaJobs).details?.map((d) => d.path)).toEqual(["body/spec/include/0"]);
  });

  it("never answers malformed input with a 5xx", () => {
    expect(api.bodies.filter((b) => b.includes('"INTERNAL"'))).toEqual([]);
  });
});
