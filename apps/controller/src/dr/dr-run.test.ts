// DR runs against a real controller: fake agents on real mutual-TLS sessions
// answer the steps' jobs; the REST API plans, starts and cancels runs.
import {
  AgentStorageService,
  CONTROLLER_TLS_NAME,
  clientCredentials,
  controllerChannelOptions,
  createClient,
  type TlsIdentity,
} from "@pwdr/protocol";
import { RemoteBackend } from "@pwdr/storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, ApiRequestError } from "../api-client/api-client.js";
import type { RunningController } from "../controller-server.js";
import {
  apiClientAs,
  POINT_SOURCES,
  replacementAgent,
  seedFailedHost,
  startDrController,
  until,
} from "./test-support/dr-fixture.js";
import { JobState, SourceKind } from "./test-support/fake-agent.js";

let controller: RunningController;
let api: ApiClient;

beforeAll(async () => {
  controller = await startDrController("pwdr-dr-");
  api = (await apiClientAs(controller, "operator", "ops")).client;
});

afterAll(async () => {
  await controller?.close();
});

interface PlanBody {
  kind: string;
  rpoMs: number;
  totalBytes: number;
  restores: { source: string; kind: string; sizeBytes: number; step: string }[];
  estimate: { ms: number; basis: string; note: string };
  assessment: { ok: boolean; problems: string[] };
  steps: { name: string; action: string; hostId: string | null; params: Record<string, unknown> }[];
}

interface RunBody {
  id: string;
  state: string;
  rtoMs: number | null;
  rpoMs: number | null;
  reason: string | null;
  steps: { name: string; state: string; attempt: number; jobId: string | null; error: string | null }[];
}

const restore = (body: object) => api.post<PlanBody & RunBody>("/dr/restores", body);
const runOf = (id: string) => api.get<RunBody>(`/dr/runs/${id}`);

async function finished(id: string): Promise<RunBody> {
  let run: RunBody | undefined;
  await until(async () => {
    run = await runOf(id);
    return ["succeeded", "failed", "cancelled"].includes(run.state);
  }, `run ${id} to finish`);
  return run as RunBody;
}

async function refusal(call: Promise<unknown>): Promise<ApiRequestError> {
  const err = await call.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ApiRequestError);
  return err as ApiRequestError;
}

function storageClient(identity: TlsIdentity) {
  return createClient(
    AgentStorageService,
    controller.sessionAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem, identity }),
    controllerChannelOptions(),
  );
}

async function repositoryAccess(identity: TlsIdentity, repository: string) {
  const client = storageClient(identity);
  try {
    return await client.getRepositoryAccess({ repository });
  } finally {
    client.grpcClient.close();
  }
}

function readConfig(identity: TlsIdentity, repository: string) {
  const backend = new RemoteBackend({
    url: controller.storageUrl,
    repository,
    ca: controller.pki.ca.certPem,
    cert: identity.certPem,
    key: identity.keyPem,
    servername: CONTROLLER_TLS_NAME,
  });
  return backend.stat({ type: "config", name: "config" });
}

const counts = async () => ({
  runs: await controller.db.drRun.count(),
  jobs: await controller.db.job.count(),
  certificates: await controller.db.agentCertificate.count({ where: { revokedAt: null } }),
});

describe("planning a central restore", () => {
  it("shows what goes where, the RPO and an estimate from past drills, and touches nothing", async () => {
    const failed = await seedFailedHost(controller, "plan-a");
    const replacement = await replacementAgent(controller, "plan-b");
    const drill = await controller.db.job.create({
      data: {
        kind: "drill",
        hostId: failed.hostId,
        scheduledFor: new Date(),
        idempotencyKey: "test/drill",
        params: {},
      },
    });
    await controller.db.jobRun.create({
      data: {
        jobId: drill.id,
        hostId: failed.hostId,
        state: "succeeded",
        startedAt: new Date(),
        idempotencyKey: "test/drill-run",
        details: { restoreMs: 4_000 },
      },
    });
    const before = await counts();
    const plan = await restore({ failedHostId: "plan-a", replacementHostId: replacement.enrolled.hostId });
    expect(await counts()).toEqual(before);

    expect(plan.kind).toBe("host-restore");
    expect(plan.assessment).toMatchObject({ ok: true, problems: [] });
    expect(plan.steps.map((s) => s.name)).toEqual([
      "assess",
      "stop-services",
      "restore-database",
      "restore-redis",
      "restore-config",
      "restore-data",
      "start-services",
      "verify-health",
      "take-over",
    ]);
    expect(plan.steps.find((s) => s.name === "restore-database")).toMatchObject({
      hostId: replacement.enrolled.hostId,
      params: { recoveryPointId: failed.point.id, sources: ["db"], repository: failed.hostId },
    });
    expect(plan.restores.map((r) => [r.source, r.step, r.sizeBytes])).toEqual(
      expect.arrayContaining(
        POINT_SOURCES.map((s) => [s.name, expect.stringMatching(/^restore-/), s.sizeBytes]),
      ),
    );
    expect(plan.totalBytes).toBe(POINT_SOURCES.reduce((n, s) => n + s.sizeBytes, 0));
    expect(plan.rpoMs).toBeGreaterThanOrEqual(3_600_000);
    expect(plan.estimate).toMatchObject({ basis: "history", ms: 64_000 });
    replacement.disconnect();
  });

  it("falls back to a size-based estimate and plans only the steps of the point's source kinds", async () => {
    const failed = await seedFailedHost(controller, "size-a");
    await controller.db.snapshot.deleteMany({
      where: { hostId: failed.hostId, sourceKind: { in: ["redis", "files"] } },
    });
    const replacement = await replacementAgent(controller, "size-b");
    const plan = await restore({ failedHostId: failed.hostId, replacementHostId: "size-b", dryRun: true });
    expect(plan.estimate.basis).toBe("size");
    expect(plan.estimate.note).toContain("no past drill");
    expect(plan.steps.map((s) => s.name)).not.toContain("restore-redis");
    expect(plan.steps.map((s) => s.name)).not.toContain("restore-data");
    replacement.disconnect();
  });
});

describe("assessment", () => {
  it("refuses a confirmed run with the reasons (409) and lists them in the dry run", async () => {
    const failed = await seedFailedHost(controller, "refuse-a");
    const small = await replacementAgent(controller, "refuse-b", {
      diskFreeBytes: 1_000,
      sources: [
        { name: "db", kind: SourceKind.POSTGRES, version: "15.8" },
        { name: "cache", kind: SourceKind.REDIS, version: "6.2.0" },
      ],
    });
    const dry = await restore({ failedHostId: failed.hostId, replacementHostId: "refuse-b" });
    expect(dry.assessment.ok).toBe(false);
    expect(dry.assessment.problems.join("\n")).toMatch(/bytes free but the restore needs/);
    expect(dry.assessment.problems.join("\n")).toMatch(
      /PostgreSQL 15.8 .* older than the backed-up major 16/,
    );
    expect(dry.assessment.problems.join("\n")).toMatch(/Redis 6.2.0 .* older/);

    const before = await counts();
    const err = await refusal(
      restore({ failedHostId: failed.hostId, replacementHostId: "refuse-b", dryRun: false }),
    );
    expect(err.status).toBe(409);
    expect(err.details.map((d) => d.message).join("\n")).toMatch(/bytes free/);
    expect(await counts()).toEqual(before);

    small.disconnect();
    await until(() => controller.sessions.get(small.enrolled.hostId) === undefined, "refuse-b offline");
    const offline = await restore({ failedHostId: failed.hostId, replacementHostId: "refuse-b" });
    expect(offline.assessment.problems.join("\n")).toMatch(/no live session/);
    const self = await restore({ failedHostId: failed.hostId, replacementHostId: failed.hostId });
    expect(self.assessment.problems.join("\n")).toMatch(/replacement is refuse-a itself/);
  });

  it("answers malformed and impossible requests with 4xx", async () => {
    const failed = await seedFailedHost(controller, "bad-a");
    expect((await refusal(restore({ failedHostId: failed.hostId }))).status).toBe(400);
    expect((await refusal(restore({ failedHostId: "nope", replacementHostId: "bad-a" }))).status).toBe(404);
    const both = {
      failedHostId: failed.hostId,
      replacementHostId: "bad-a",
      recoveryPointId: "x",
      at: new Date().toISOString(),
    };
    expect((await refusal(restore(both))).status).toBe(400);
    const early = { failedHostId: failed.hostId, replacementHostId: "bad-a", at: "2001-01-01T00:00:00Z" };
    expect((await refusal(restore(early))).status).toBe(409);
    expect((await refusal(api.post("/dr/plans/run", { steps: [] }))).status).toBe(400);
    const unknownDep = {
      steps: [
        {
          name: "x",
          hostId: failed.hostId,
          action: "command",
          params: { command: "true" },
          dependsOn: ["y"],
        },
      ],
    };
    expect((await refusal(api.post("/dr/plans/run", unknownDep))).status).toBe(400);
    const badParams = { steps: [{ name: "x", hostId: failed.hostId, action: "command", params: {} }] };
    expect((await refusal(api.post("/dr/plans/run", badParams))).status).toBe(400);
    expect((await refusal(api.post("/dr/runs/nope/cancel", {}))).status).toBe(404);
    const viewer = (await apiClientAs(controller, "viewer", "dr-viewer")).client;
    expect((await viewer.get<{ runs: unknown[] }>("/dr/runs")).runs).toBeInstanceOf(Array);
    const denied = await refusal(
      viewer.post("/dr/restores", { failedHostId: failed.hostId, replacementHostId: "x" }),
    );
    expect(denied.status).toBe(403);
  });
});

describe("a central restore run", () => {
  it("runs every step on the replacement, grants it read access meanwhile, takes over and reports RTO/RPO", async () => {
    const failed = await seedFailedHost(controller, "full-a");
    const other = await seedFailedHost(controller, "full-other");
    const replacement = await replacementAgent(controller, "full-b", { hold: true });
    const replacementId = replacement.enrolled.hostId;
    await expect(repositoryAccess(replacement.enrolled.identity, failed.hostId)).rejects.toMatchObject({
      code: 7, // PERMISSION_DENIED
    });
    await expect(readConfig(replacement.enrolled.identity, failed.hostId)).rejects.toMatchObject({
      code: "access_denied",
    });

    const started = await restore({ failedHostId: "full-a", replacementHostId: "full-b", dryRun: false });
    expect(started.state).toBe("running");
    await until(() => replacement.ran.length === 1, "the first job on the replacement");
    expect(replacement.jobs[0]?.spec).toMatchObject({ case: "serviceAction" });

    const access = await repositoryAccess(replacement.enrolled.identity, failed.hostId);
    expect(access.repository).toBe(failed.hostId);
    expect(access.password).not.toBe("");
    expect(await readConfig(replacement.enrolled.identity, failed.hostId)).toBeDefined();
    await expect(repositoryAccess(replacement.enrolled.identity, other.hostId)).rejects.toMatchObject({
      code: 7,
    });
    await expect(readConfig(replacement.enrolled.identity, other.hostId)).rejects.toMatchObject({
      code: "access_denied",
    });

    const reconnected = replacement.ended;
    replacement.release();
    await reconnected;
    replacement.connect(controller);
    const run = await finished(started.id);
    expect(run.state).toBe("succeeded");
    expect(run.steps.every((s) => s.state === "succeeded")).toBe(true);
    expect(run.rpoMs).toBeGreaterThanOrEqual(3_600_000);
    expect(run.rtoMs).toBeGreaterThanOrEqual(0);

    const restores = replacement.jobs.filter((j) => j.spec.case === "restore");
    expect(restores.map((j) => j.spec.value)).toEqual(
      ["db", "cache", "etc", "data"].map((source) =>
        expect.objectContaining({
          recoveryPointId: failed.point.id,
          sources: [source],
          repository: failed.hostId,
        }),
      ),
    );
    const jobs = await controller.db.job.findMany({ where: { hostId: replacementId } });
    expect(jobs.every((j) => j.createdBy === "system:dr" && j.idempotencyKey.startsWith("dr/"))).toBe(true);

    // Take-over: the replacement's certificate is the failed host's now; the old one is revoked.
    const certs = await controller.db.agentCertificate.findMany({
      where: { hostId: { in: [failed.hostId, replacementId] } },
    });
    expect(certs.filter((c) => c.hostId === failed.hostId && !c.revokedAt)).toHaveLength(1);
    expect(certs.filter((c) => c.hostId === failed.hostId && c.revokedAt)).toHaveLength(1);
    expect(certs.filter((c) => c.hostId === replacementId)).toHaveLength(0);
    const hosts = await controller.db.host.findMany({
      where: { id: { in: [failed.hostId, replacementId] } },
    });
    expect(hosts.find((h) => h.id === replacementId)?.state).toBe("decommissioned");
    expect(await controller.db.recoveryPoint.count({ where: { hostId: failed.hostId } })).toBe(1);
    expect(
      await controller.db.auditEvent.count({
        where: { action: "dr.take-over", target: `host:${failed.hostId}` },
      }),
    ).toBe(1);
    // The replacement's agent reconnects with the same certificate and is welcomed as the failed host.
    await until(() => replacement.welcomes.at(-1) === failed.hostId, "welcome as the failed host");
    await until(
      async () =>
        (await controller.db.host.findUniqueOrThrow({ where: { id: failed.hostId } })).state === "online",
      "failed host online",
    );
    expect((await controller.db.host.findUniqueOrThrow({ where: { id: replacementId } })).state).toBe(
      "decommissioned",
    );
    // The run is over: the grant is gone.
    await expect(readConfig(replacement.enrolled.identity, other.hostId)).rejects.toMatchObject({
      code: "access_denied",
    });
    const own = await repositoryAccess(replacement.enrolled.identity, "");
    expect(own.repository).toBe(failed.hostId);
    replacement.disconnect();
  });

  it("retries a failed attempt, and aborts the run when a step keeps failing", async () => {
    const failed = await seedFailedHost(controller, "retry-a");
    let restoreFailures = 1;
    const replacement = await replacementAgent(controller, "retry-b", {
      answer: (job) => {
        if (job.spec.case === "restore" && restoreFailures-- > 0)
          return { state: JobState.FAILED, message: "disk hiccup" };
        if (job.spec.case === "healthCheck") return { state: JobState.FAILED, message: "HTTP 503" };
        return { state: JobState.SUCCEEDED };
      },
    });
    const started = await restore({
      failedHostId: failed.hostId,
      replacementHostId: "retry-b",
      dryRun: false,
    });
    const run = await finished(started.id);
    expect(run.state).toBe("failed");
    expect(run.reason).toMatch(/verify-health failed/);
    const step = (name: string) => run.steps.find((s) => s.name === name);
    expect(step("restore-database")).toMatchObject({ state: "succeeded", attempt: 2 });
    expect(step("verify-health")).toMatchObject({ state: "failed", attempt: 3 });
    expect(step("take-over")?.state).toBe("skipped");
    expect(
      (await controller.db.host.findUniqueOrThrow({ where: { id: replacement.enrolled.hostId } })).state,
    ).not.toBe("decommissioned");
    replacement.disconnect();
  });

  it("cancels: the running step's job is asked to stop, later steps never start", async () => {
    const failed = await seedFailedHost(controller, "cancel-a");
    const replacement = await replacementAgent(controller, "cancel-b", { hold: true });
    const started = await restore({
      failedHostId: failed.hostId,
      replacementHostId: "cancel-b",
      dryRun: false,
    });
    await until(() => replacement.ran.length === 1, "the first job");
    await api.post(`/dr/runs/${started.id}/cancel`, {});
    const run = await finished(started.id);
    expect(run.state).toBe("cancelled");
    expect(replacement.cancels).toEqual([replacement.ran[0]]);
    expect(run.steps.find((s) => s.name === "stop-services")?.state).toBe("cancelled");
    expect(run.steps.filter((s) => s.state === "cancelled").length).toBe(run.steps.length - 1);
    expect(replacement.ran).toHaveLength(1);
    expect((await refusal(api.post(`/dr/runs/${started.id}/cancel`, {}))).status).toBe(409);
    replacement.disconnect();
  });
});

describe("an ordered plan across hosts", () => {
  it("runs the database host's step before the app host's", async () => {
    const order: string[] = [];
    const dbHost = await replacementAgent(controller, "plan-db", {
      answer: () => {
        order.push("db");
        return { state: JobState.SUCCEEDED };
      },
    });
    const appHost = await replacementAgent(controller, "plan-app", {
      answer: () => {
        order.push("app");
        return { state: JobState.SUCCEEDED };
      },
    });
    const steps = [
      { name: "db-up", hostId: "plan-db", action: "start-services" },
      { name: "db-ok", hostId: "plan-db", action: "command", params: { command: "pg_isready" } },
      { name: "app-up", hostId: "plan-app", action: "start-services", dependsOn: ["db-ok"] },
      {
        name: "app-ok",
        hostId: "plan-app",
        action: "verify-health",
        params: { url: "http://127.0.0.1:1/health" },
      },
    ];
    const plan = await api.post<PlanBody>("/dr/plans/run", { steps });
    expect(plan.assessment.ok).toBe(true);
    expect(await controller.db.drRun.count({ where: { kind: "plan" } })).toBe(0);
    const started = await api.post<RunBody>("/dr/plans/run", { steps, dryRun: false });
    const run = await finished(started.id);
    expect(run.state).toBe("succeeded");
    expect(order).toEqual(["db", "db", "app", "app"]);
    dbHost.disconnect();
    appHost.disconnect();
  });
});
