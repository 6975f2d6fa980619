import type { Catalog } from "@pwdr/catalog";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture, type Provider } from "../api/test-support/api-fixture.js";
import type { LiveSession } from "../session-registry.js";
import { ControllerMetrics } from "./controller-metrics.js";
import { parseExposition, type Sample, samplesOf, sampleValue } from "./test-support/exposition.js";

const providers: Provider[] = ["sqlite", "postgres"];
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms);
const seconds = (ms: number) => ms / 1000;

interface Seeded {
  t0: number;
  /** Newest complete snapshot of pi-north-01's database. */
  dbSuccess: number;
  filesSuccess: number;
  pointSuccess: number;
  breachedSince: number;
  certNotAfter: number;
}

async function seedFleet(db: Catalog): Promise<Seeded> {
  const t0 = Date.now() - 48 * HOUR;
  const repo = await db.repository.create({
    data: {
      name: "metrics-repo",
      kind: "local",
      location: "/srv/repo",
      passwordCiphertext: new Uint8Array(),
      passwordKeyId: "test",
    },
  });
  const breachedSince = t0 + 30 * HOUR;
  const north = await db.host.create({
    data: { name: "pi-north-01", labels: {}, state: "online", rpoBreachedSince: at(breachedSince) },
  });
  const south = await db.host.create({ data: { name: "pi-south-02", labels: {}, state: "offline" } });
  const old = await db.host.create({ data: { name: "pi-old", labels: {}, state: "decommissioned" } });

  let jobs = 0;
  const backupRun = async (
    hostId: string,
    runId: string,
    state: string,
    startMs: number,
    details: object | null,
  ) => {
    const job = await db.job.create({
      data: {
        kind: "backup",
        hostId,
        scheduledFor: at(startMs),
        state,
        idempotencyKey: `metrics-test/${jobs++}`,
        params: { spec: {} },
      },
    });
    await db.jobRun.create({
      data: {
        id: runId,
        jobId: job.id,
        hostId,
        state,
        startedAt: at(startMs),
        finishedAt: at(startMs + 90_000),
        bytesRead: 5_000n,
        bytesAdded: 700n,
        idempotencyKey: runId,
        ...(details ? { details } : {}),
      },
    });
  };
  const ok = (name: string, kind: string, durationMs: number, bytes: number, addedBytes: number) => ({
    name,
    kind,
    status: "ok",
    durationMs,
    bytes,
    addedBytes,
    warnings: [],
  });
  // Ids sort like creation times (UUIDv7 in production): run-n-3 is north's newest.
  await backupRun(north.id, "run-n-1", "failed", t0, null);
  await backupRun(north.id, "run-n-2", "succeeded", t0 + HOUR, {
    sources: [ok("piwardrive-db", "postgres", 4_000, 100, 10), ok("data", "files", 2_000, 50, 5)],
  });
  await backupRun(north.id, "run-n-3", "partial", t0 + 2 * HOUR, {
    sources: [
      ok("piwardrive-db", "postgres", 12_500, 1_000, 100),
      { name: "data", kind: "files", status: "failed", durationMs: 300, error: { code: "io", message: "x" } },
    ],
  });
  await backupRun(south.id, "run-s-1", "failed", t0 + HOUR, { sources: [] });
  await backupRun(old.id, "run-o-1", "succeeded", t0, { sources: [ok("data", "files", 1, 1, 1)] });
  // A verify job's failure is not a backup failure.
  const verify = await db.job.create({
    data: {
      kind: "verify",
      hostId: north.id,
      scheduledFor: at(t0),
      state: "failed",
      idempotencyKey: "metrics-test/verify",
      params: { spec: {} },
    },
  });
  await db.jobRun.create({
    data: {
      id: "run-v-1",
      jobId: verify.id,
      hostId: north.id,
      state: "failed",
      startedAt: at(t0),
      idempotencyKey: "v1",
    },
  });

  const pointSuccess = t0 + HOUR;
  await db.recoveryPoint.create({
    data: { id: "rp-n-2", hostId: north.id, time: at(pointSuccess), status: "complete", versions: {} },
  });
  await db.recoveryPoint.create({
    data: { id: "rp-n-3", hostId: north.id, time: at(t0 + 2 * HOUR), status: "partial", versions: {} },
  });
  let snapshots = 0;
  const snapshot = (hostId: string, sourceName: string, sourceKind: string, ms: number, status: string) =>
    db.snapshot.create({
      data: {
        repositoryId: repo.id,
        snapshotId: `snap-${snapshots++}`,
        hostId,
        sourceName,
        sourceKind,
        time: at(ms),
        sizeBytes: 1n,
        addedBytes: 1n,
        fileCount: 1,
        status,
      },
    });
  const dbSuccess = t0 + 2 * HOUR;
  const filesSuccess = t0 + HOUR;
  await snapshot(north.id, "piwardrive-db", "postgres", t0 + HOUR, "complete");
  await snapshot(north.id, "piwardrive-db", "postgres", dbSuccess, "complete");
  await snapshot(north.id, "data", "files", filesSuccess, "complete");
  await snapshot(north.id, "data", "files", t0 + 2 * HOUR, "failed");
  await snapshot(south.id, "piwardrive-db", "postgres", t0, "complete");
  await snapshot(old.id, "data", "files", t0, "complete");

  const certNotAfter = t0 + 20 * 24 * HOUR;
  const cert = (hostId: string, serial: string, notAfter: number, revoked: boolean) =>
    db.agentCertificate.create({
      data: {
        hostId,
        serial,
        fingerprintSha256: serial.padEnd(64, "0"),
        notAfter: at(notAfter),
        ...(revoked ? { revokedAt: at(t0) } : {}),
      },
    });
  await cert(north.id, "aa01", t0 + 10 * 24 * HOUR, false);
  await cert(north.id, "aa02", certNotAfter, false);
  await cert(north.id, "aa03", t0 + 90 * 24 * HOUR, true);

  const job = (state: string, scheduledMs: number, key: string) =>
    db.job.create({
      data: {
        kind: "backup",
        hostId: south.id,
        scheduledFor: at(scheduledMs),
        state,
        idempotencyKey: `metrics-test/${key}`,
        params: { spec: {} },
      },
    });
  const now = Date.now();
  await job("pending", now - 600_000, "due-1");
  await job("pending", now - 60_000, "due-2");
  await job("pending", now + HOUR, "later");
  await job("running", now - 60_000, "running");

  const drRun = (kind: string, state: string, finishedMs: number, rtoMs: number, rpoMs: number) =>
    db.drRun.create({
      data: {
        kind,
        state,
        plan: {},
        createdBy: "test",
        startedAt: at(finishedMs - rtoMs),
        finishedAt: at(finishedMs),
        rtoMs,
        rpoMs,
      },
    });
  await drRun("host-restore", "succeeded", t0 + HOUR, 600_000, 7_200_000);
  await drRun("host-restore", "succeeded", t0 + 3 * HOUR, 240_000, 3_600_000);
  await drRun("host-restore", "failed", t0 + 4 * HOUR, 60_000, 1_000);
  await drRun("drill", "failed", t0 + 4 * HOUR, 60_000, 1_000);
  return { t0, dbSuccess, filesSuccess, pointSuccess, breachedSince, certNotAfter };
}

const fakeSession = (hostId: string): LiveSession => ({
  sessionId: `s-${hostId}`,
  hostId,
  close: () => {},
  send: () => true,
});

describe.each(providers)("GET /metrics on %s", (provider) => {
  let api: ApiFixture;
  let seeded: Seeded;
  let samples: Sample[];
  let types: Map<string, string>;

  beforeAll(async () => {
    api = await openApiFixture(provider);
    seeded = await seedFleet(api.db);
    api.sessions.add(fakeSession("h1"), "", 0);
    api.sessions.add(fakeSession("h2"), "", 0);
    const response = await api.call("viewer", { method: "GET", url: "/metrics" });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    ({ samples, types } = parseExposition(response.body));
  });

  afterAll(async () => {
    await api?.close();
  });

  it("refuses a scrape without a token, and with an unknown one", async () => {
    const anonymous = await api.call("anonymous", { method: "GET", url: "/metrics" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe("UNAUTHENTICATED");
    const unknown = await api.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: "Bearer pwdr_not-a-token" },
    });
    expect(unknown.statusCode).toBe(401);
  });

  it("reports each source's last success, and its newest run's duration, bytes and verdict", () => {
    const db = { host: "pi-north-01", source: "piwardrive-db", kind: "postgres" };
    const data = { host: "pi-north-01", source: "data", kind: "files" };
    expect(sampleValue(samples, "pwdr_source_last_success_timestamp_seconds", db)).toBe(
      seconds(seeded.dbSuccess),
    );
    expect(sampleValue(samples, "pwdr_source_last_success_timestamp_seconds", data)).toBe(
      seconds(seeded.filesSuccess),
    );
    expect(sampleValue(samples, "pwdr_source_last_backup_duration_seconds", db)).toBe(12.5);
    expect(sampleValue(samples, "pwdr_source_last_backup_read_bytes", db)).toBe(1_000);
    expect(sampleValue(samples, "pwdr_source_last_backup_added_bytes", db)).toBe(100);
    expect(sampleValue(samples, "pwdr_source_last_backup_failed", db)).toBe(0);
    expect(sampleValue(samples, "pwdr_source_last_backup_failed", data)).toBe(1);
    expect(sampleValue(samples, "pwdr_source_last_backup_duration_seconds", data)).toBe(0.3);
    expect(sampleValue(samples, "pwdr_source_last_backup_read_bytes", data)).toBeUndefined();
    // pi-south-02's newest run failed before reaching any source.
    const south = { host: "pi-south-02", source: "piwardrive-db", kind: "postgres" };
    expect(sampleValue(samples, "pwdr_source_last_backup_failed", south)).toBe(1);
  });

  it("reports per host the last complete point, the newest run and the failures", () => {
    const north = { host: "pi-north-01" };
    expect(sampleValue(samples, "pwdr_host_last_backup_success_timestamp_seconds", north)).toBe(
      seconds(seeded.pointSuccess),
    );
    expect(sampleValue(samples, "pwdr_host_last_backup_duration_seconds", north)).toBe(90);
    expect(sampleValue(samples, "pwdr_host_last_backup_read_bytes", north)).toBe(5_000);
    expect(sampleValue(samples, "pwdr_host_last_backup_added_bytes", north)).toBe(700);
    expect(sampleValue(samples, "pwdr_host_last_backup_succeeded", north)).toBe(0);
    expect(types.get("pwdr_host_backup_failures_total")).toBe("counter");
    expect(
      sampleValue(samples, "pwdr_host_backup_failures_total", { host: "pi-north-01", state: "failed" }),
    ).toBe(1);
    expect(
      sampleValue(samples, "pwdr_host_backup_failures_total", { host: "pi-north-01", state: "partial" }),
    ).toBe(1);
    expect(
      sampleValue(samples, "pwdr_host_backup_failures_total", { host: "pi-south-02", state: "failed" }),
    ).toBe(1);
  });

  it("flags RPO breaches and shows certificate expiry per host", () => {
    expect(sampleValue(samples, "pwdr_host_rpo_breached", { host: "pi-north-01" })).toBe(1);
    expect(sampleValue(samples, "pwdr_host_rpo_breached", { host: "pi-south-02" })).toBe(0);
    expect(
      sampleValue(samples, "pwdr_host_rpo_breached_since_timestamp_seconds", { host: "pi-north-01" }),
    ).toBe(seconds(seeded.breachedSince));
    expect(samplesOf(samples, "pwdr_host_rpo_breached_since_timestamp_seconds")).toHaveLength(1);
    // The newest unrevoked certificate counts; a revoked one with a later date does not.
    expect(
      sampleValue(samples, "pwdr_agent_certificate_expiry_timestamp_seconds", { host: "pi-north-01" }),
    ).toBe(seconds(seeded.certNotAfter));
  });

  it("leaves decommissioned hosts out of per-host series but counts them", () => {
    expect(samples.filter((s) => s.labels.host === "pi-old")).toEqual([]);
    expect(sampleValue(samples, "pwdr_hosts", { state: "online" })).toBe(1);
    expect(sampleValue(samples, "pwdr_hosts", { state: "offline" })).toBe(1);
    expect(sampleValue(samples, "pwdr_hosts", { state: "decommissioned" })).toBe(1);
  });

  it("reports sessions, open jobs and how late the oldest due job is", () => {
    expect(sampleValue(samples, "pwdr_agent_sessions_open")).toBe(2);
    expect(sampleValue(samples, "pwdr_metrics_catalog_read_seconds")).toBeGreaterThan(0);
    expect(sampleValue(samples, "pwdr_jobs", { state: "pending" })).toBe(3);
    expect(sampleValue(samples, "pwdr_jobs", { state: "running" })).toBe(1);
    expect(sampleValue(samples, "pwdr_scheduler_due_jobs")).toBe(2);
    const age = sampleValue(samples, "pwdr_scheduler_oldest_due_job_age_seconds") ?? 0;
    expect(age).toBeGreaterThanOrEqual(600);
    expect(age).toBeLessThan(HOUR / 1000);
  });

  it("counts DR runs by kind and state and shows the newest succeeded run's RTO and RPO", () => {
    expect(sampleValue(samples, "pwdr_dr_runs", { kind: "host-restore", state: "succeeded" })).toBe(2);
    expect(sampleValue(samples, "pwdr_dr_runs", { kind: "host-restore", state: "failed" })).toBe(1);
    expect(sampleValue(samples, "pwdr_dr_runs", { kind: "drill", state: "failed" })).toBe(1);
    expect(sampleValue(samples, "pwdr_dr_last_rto_seconds", { kind: "host-restore" })).toBe(240);
    expect(sampleValue(samples, "pwdr_dr_last_rpo_seconds", { kind: "host-restore" })).toBe(3_600);
    expect(sampleValue(samples, "pwdr_dr_last_rto_seconds", { kind: "drill" })).toBeUndefined();
  });

  it("reads the catalog again at the next scrape: a new run replaces the newest one", async () => {
    const metrics = new ControllerMetrics({ db: api.db, sessions: api.sessions, reuseMs: 0 });
    const before = parseExposition(await metrics.render()).samples;
    expect(sampleValue(before, "pwdr_host_last_backup_succeeded", { host: "pi-south-02" })).toBe(0);
    const south = await api.db.host.findUniqueOrThrow({ where: { name: "pi-south-02" } });
    const job = await api.db.job.create({
      data: {
        kind: "backup",
        hostId: south.id,
        scheduledFor: new Date(),
        state: "succeeded",
        idempotencyKey: "metrics-test/south-ok",
        params: { spec: {} },
      },
    });
    await api.db.jobRun.create({
      data: {
        id: "run-s-2",
        jobId: job.id,
        hostId: south.id,
        state: "succeeded",
        startedAt: new Date(seeded.t0),
        finishedAt: new Date(seeded.t0 + 1_000),
        idempotencyKey: "run-s-2",
        details: { sources: [{ name: "piwardrive-db", kind: "postgres", status: "ok", durationMs: 800 }] },
      },
    });
    const after = parseExposition(await metrics.render()).samples;
    expect(sampleValue(after, "pwdr_host_last_backup_succeeded", { host: "pi-south-02" })).toBe(1);
    const db = { host: "pi-south-02", source: "piwardrive-db", kind: "postgres" };
    expect(sampleValue(after, "pwdr_source_last_backup_failed", db)).toBe(0);
    expect(sampleValue(after, "pwdr_source_last_backup_duration_seconds", db)).toBe(0.8);
  });
});
