import { join } from "node:path";
import { type Catalog, type OpenedCatalog, openCatalog } from "@pwdr/catalog";
import { createLogger } from "@pwdr/logging";
import type { Job } from "@pwdr/protocol";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createPolicy } from "../policies.js";
import type { PolicyInput } from "../policy-schema.js";
import { type ControllerMessageBody, type LiveSession, SessionRegistry } from "../session-registry.js";
import { dispatchDue } from "./dispatcher.js";
import { loadFleet } from "./fleet-view.js";
import { createDueJobs } from "./job-creation.js";
import { failOverdueJobs } from "./overdue-jobs.js";
import { checkRpo } from "./rpo.js";

const log = createLogger("scheduler-test", "error");
let catalog: OpenedCatalog;
let db: Catalog;

beforeAll(async () => {
  catalog = await openCatalog({ url: `file:${join(await makeTempDir("pwdr-scheduler-"), "catalog.db")}` });
  db = catalog.db;
});

afterAll(async () => {
  await catalog?.close();
});

beforeEach(async () => {
  await db.jobRun.deleteMany();
  await db.job.deleteMany();
  await db.recoveryPoint.deleteMany();
  await db.host.deleteMany();
  await db.policy.deleteMany();
  await db.auditEvent.deleteMany();
});

const local = (day: number, h: number, m = 0) => new Date(2026, 10, day, h, m);
const LONG_AGO = new Date(2026, 0, 1);

async function addHost(name: string, labels: Record<string, string> = {}, site?: string) {
  return db.host.create({ data: { name, labels, site: site ?? null, state: "online", createdAt: LONG_AGO } });
}

/** A policy as if written long ago, so every slot since counts. */
async function addPolicy(input: PolicyInput) {
  const policy = await createPolicy(db, input);
  await db.$executeRaw`UPDATE "Policy" SET "updatedAt" = ${LONG_AGO} WHERE "id" = ${policy.id}`;
  return policy;
}

class RecordingSession implements LiveSession {
  readonly sessionId = crypto.randomUUID();
  readonly jobs: Job[] = [];
  constructor(readonly hostId: string) {}
  close(): void {}
  send(message: ControllerMessageBody): boolean {
    if (message.case === "job") this.jobs.push(message.value as Job);
    return true;
  }
}

function connect(sessions: SessionRegistry, hostIds: string[]): RecordingSession[] {
  return hostIds.map((id) => {
    const session = new RecordingSession(id);
    sessions.add(session, "replaced", 0);
    return session;
  });
}

describe("job creation", () => {
  it("creates one job per host and schedule for the latest slot, once across restarts and racing controllers", async () => {
    await addPolicy({
      name: "fleet",
      schedule: "0 2 * * *",
      verification: { checkSchedule: "0 3 * * 0", readDataSubset: "10%" },
      scheduling: { jitter: "1h", retry: { attempts: 5, initialDelay: "1m", maxDelay: "1h" } },
    });
    const hosts = [await addHost("pi-01"), await addHost("pi-02")];
    const now = local(20, 9); // Friday 20 Nov 2026, 09:00
    const fleet = await loadFleet(db);
    expect(await createDueJobs(db, fleet.hosts.values(), now, new Map())).toBe(4);
    // A restarted scheduler (empty memory) and two racing ones add nothing.
    const again = await Promise.all([
      createDueJobs(db, fleet.hosts.values(), now, new Map()),
      createDueJobs(db, fleet.hosts.values(), now, new Map()),
    ]);
    expect(again).toEqual([0, 0]);
    const jobs = await db.job.findMany({ orderBy: { idempotencyKey: "asc" } });
    expect(jobs).toHaveLength(4);
    const backup = jobs.find((j) => j.hostId === hosts[0]?.id && j.schedule === "backup");
    const slot = local(20, 2);
    expect(backup).toMatchObject({
      kind: "backup",
      state: "pending",
      createdBy: "system:scheduler",
      idempotencyKey: `${hosts[0]?.id}/backup@${slot.toISOString()}`,
      params: { spec: {}, retry: { attempts: 5, initialDelayMs: 60_000, maxDelayMs: 3_600_000 } },
    });
    const jitter = (backup?.scheduledFor.getTime() ?? 0) - slot.getTime();
    expect(jitter).toBeGreaterThanOrEqual(0);
    expect(jitter).toBeLessThan(3_600_000);
    const check = jobs.find((j) => j.hostId === hosts[0]?.id && j.schedule === "check");
    expect(check).toMatchObject({ kind: "verify", params: { spec: { readDataSubset: "10%" } } });
    // The Sunday check slot is the latest one, even days back: caught up once.
    expect(check?.idempotencyKey).toBe(`${hosts[0]?.id}/check@${local(15, 3).toISOString()}`);

    // The next slot is a new job; the older one, never sent, is not run as well (catch-up once).
    expect(await createDueJobs(db, fleet.hosts.values(), local(21, 2, 30), new Map())).toBe(2);
    const old = await db.job.findUniqueOrThrow({ where: { id: backup?.id ?? "" } });
    expect(old.state).toBe("missed");
    expect(old.reason).toBe(
      `superseded by the newer slot backup@${local(21, 2).toISOString()} before it could be dispatched`,
    );
    expect(await db.job.count({ where: { state: "pending", schedule: "backup" } })).toBe(2);
  });

  it("owes nothing for slots before the host enrolled or before its policy last changed", async () => {
    const policy = await createPolicy(db, { name: "fleet", schedule: "0 2 * * *" });
    await db.$executeRaw`UPDATE "Policy" SET "updatedAt" = ${local(10, 0)} WHERE "id" = ${policy.id}`;
    const host = await db.host.create({ data: { name: "pi-new", labels: {}, createdAt: local(20, 8) } });
    const fleet = await loadFleet(db);
    expect(await createDueJobs(db, fleet.hosts.values(), local(20, 9), new Map())).toBe(0);
    expect(await createDueJobs(db, fleet.hosts.values(), local(21, 2), new Map())).toBe(1);
    expect((await db.job.findFirstOrThrow()).hostId).toBe(host.id);

    // A policy changed after the 02:00 slot owes the next one, not that one.
    await db.$executeRaw`UPDATE "Policy" SET "updatedAt" = ${local(22, 3)} WHERE "id" = ${policy.id}`;
    const changed = await loadFleet(db);
    expect(await createDueJobs(db, changed.hosts.values(), local(22, 9), new Map())).toBe(0);
    expect(await createDueJobs(db, changed.hosts.values(), local(23, 2), new Map())).toBe(1);
  });
});

describe("dispatch", () => {
  it("marks a scheduled job missed when its window closed before it could be sent", async () => {
    await addPolicy({
      name: "fleet",
      schedule: "0 23 * * *",
      scheduling: { window: { start: "22:00", end: "04:00" } },
    });
    const host = await addHost("pi-01");
    await createDueJobs(db, (await loadFleet(db)).hosts.values(), local(20, 23, 5), new Map());
    const sessions = new SessionRegistry();
    const deps = { db, sessions, log, limits: { perRepository: 4, perSite: 8 }, runOnController: () => {} };
    // The host is offline all night: nothing is sent, and at 04:00 the window is gone.
    expect(await dispatchDue(deps, local(21, 3, 59))).toBe(0);
    expect((await db.job.findFirstOrThrow()).state).toBe("pending");
    connect(sessions, [host.id]);
    expect(await dispatchDue(deps, local(21, 4, 0))).toBe(0);
    const missed = await db.job.findFirstOrThrow();
    expect(missed.state).toBe("missed");
    expect(missed.reason).toMatch(/window 22:00-04:00 closed at/);
  });

  it("waits for the window to open before sending", async () => {
    await addPolicy({
      name: "fleet",
      schedule: "0 12 * * *",
      scheduling: { window: { start: "22:00", end: "04:00" } },
    });
    const host = await addHost("pi-01");
    await createDueJobs(db, (await loadFleet(db)).hosts.values(), local(20, 12), new Map());
    const sessions = new SessionRegistry();
    const [session] = connect(sessions, [host.id]);
    const deps = { db, sessions, log, limits: { perRepository: 4, perSite: 8 }, runOnController: () => {} };
    expect(await dispatchDue(deps, local(20, 13))).toBe(0);
    expect(await dispatchDue(deps, local(20, 22, 1))).toBe(1);
    expect(session?.jobs).toHaveLength(1);
    expect(await db.job.findFirstOrThrow()).toMatchObject({ state: "dispatched", attempt: 1 });
  });

  it("sends no more jobs per repository and per site than the limits allow", async () => {
    await addPolicy({ name: "fleet", schedule: "0 2 * * *" });
    const lab = await Promise.all([1, 2, 3, 4, 5].map((i) => addHost(`lab-${i}`, {}, "lab")));
    const field = await Promise.all([1, 2, 3].map((i) => addHost(`field-${i}`, { site: "field" })));
    await createDueJobs(db, (await loadFleet(db)).hosts.values(), local(20, 9), new Map());
    const sessions = new SessionRegistry();
    const connected = connect(
      sessions,
      [...lab, ...field].map((h) => h.id),
    );
    const deps = { db, sessions, log, limits: { perRepository: 4, perSite: 2 }, runOnController: () => {} };

    expect(await dispatchDue(deps, local(20, 9))).toBe(4);
    const sent = await db.job.findMany({ where: { state: "dispatched" }, include: { host: true } });
    const perSite = (site: string) =>
      sent.filter((j) => (j.host.site ?? (j.host.labels as Record<string, string>).site) === site).length;
    expect([perSite("lab"), perSite("field")]).toEqual([2, 2]);
    expect(connected.reduce((n, s) => n + s.jobs.length, 0)).toBe(4);
    // Every host repository is on the controller's disk: one limit for all of them.
    expect(await dispatchDue(deps, local(20, 9))).toBe(0);

    // A finished job frees its slot.
    await db.job.update({ where: { id: sent[0]?.id ?? "" }, data: { state: "succeeded" } });
    expect(await dispatchDue(deps, local(20, 9))).toBe(1);
    expect(await db.job.count({ where: { state: "dispatched" } })).toBe(4);
  });
});

describe("RPO", () => {
  it("flags a host whose last complete backup is older than the RPO and clears it when one lands", async () => {
    await addPolicy({ name: "fleet", schedule: "0 2 * * *", scheduling: { rpo: "26h" } });
    const host = await addHost("pi-01");
    await db.recoveryPoint.create({
      data: { hostId: host.id, time: local(19, 2), status: "complete", versions: {} },
    });
    await db.recoveryPoint.create({
      data: { hostId: host.id, time: local(20, 2), status: "failed", versions: {} },
    });
    const check = async (now: Date) => checkRpo(db, log, (await loadFleet(db)).hosts.values(), now);

    await check(local(20, 3));
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).rpoBreachedSince).toBeNull();
    await check(local(20, 5));
    await check(local(20, 6));
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).rpoBreachedSince).toEqual(
      local(20, 4),
    );

    await db.recoveryPoint.create({
      data: { hostId: host.id, time: local(20, 7), status: "complete", versions: {} },
    });
    await check(local(20, 8));
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).rpoBreachedSince).toBeNull();

    const events = await db.auditEvent.findMany({
      where: { action: "host.rpo-breach" },
      orderBy: { id: "asc" },
    });
    expect(events.map((e) => [e.actor, e.target, (e.details as { state: string }).state])).toEqual([
      ["system:scheduler", `host:${host.id}`, "breached"],
      ["system:scheduler", `host:${host.id}`, "cleared"],
    ]);
  });

  it("counts from enrollment for a host that never backed up", async () => {
    await addPolicy({ name: "fleet", scheduling: { rpo: "1d" } });
    const host = await db.host.create({ data: { name: "pi-fresh", labels: {}, createdAt: local(20, 0) } });
    await checkRpo(db, log, (await loadFleet(db)).hosts.values(), local(21, 1));
    expect((await db.host.findUniqueOrThrow({ where: { id: host.id } })).rpoBreachedSince).toEqual(
      local(21, 0),
    );
  });
});

describe("jobs overdue on a host that went away", () => {
  it("fails a job past its deadline and grace only while its host is not connected", async () => {
    const host = await addHost("pi-gone");
    const sent = local(20, 2);
    const job = (state: string, key: string, dispatchedAt: Date) =>
      db.job.create({
        data: {
          kind: "backup",
          hostId: host.id,
          scheduledFor: sent,
          state,
          dispatchedAt,
          attempt: 1,
          idempotencyKey: key,
          params: { spec: {}, timeoutMs: 3_600_000 },
        },
      });
    const late = await job("running", "late", sent);
    const recent = await job("dispatched", "recent", local(20, 8, 30));
    const now = local(20, 9);
    const sessions = new SessionRegistry();
    connect(sessions, [host.id]);
    expect(await failOverdueJobs(db, sessions, log, now)).toBe(0);

    expect(await failOverdueJobs(db, new SessionRegistry(), log, now)).toBe(1);
    expect(await db.job.findUniqueOrThrow({ where: { id: late.id } })).toMatchObject({
      state: "failed",
      reason: expect.stringMatching(/^deadline_exceeded: /),
    });
    expect((await db.job.findUniqueOrThrow({ where: { id: recent.id } })).state).toBe("dispatched");
  });
});
