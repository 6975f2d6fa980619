// Fleet drills against a real controller: fake agents on real mutual-TLS
// sessions answer the drill's jobs; the REST API plans and starts drills,
// policies schedule them, and each host's RTO trend is kept.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../api-client/api-client.js";
import type { RunningController } from "../controller-server.js";
import { type DrillRecord, drillTrend } from "./drill-trend.js";
import {
  apiClientAs,
  replacementAgent,
  seedFailedHost,
  startDrController,
  until,
} from "./test-support/dr-fixture.js";
import { JobState } from "./test-support/fake-agent.js";

let controller: RunningController;
let api: ApiClient;
/** Policies are the admin's. */
let admin: ApiClient;

beforeAll(async () => {
  controller = await startDrController("pwdr-drill-");
  api = (await apiClientAs(controller, "operator", "ops")).client;
  admin = (await apiClientAs(controller, "admin")).client;
});

afterAll(async () => {
  await controller?.close();
});

interface PlanBody {
  kind: string;
  mode: string;
  host: { id: string; name: string };
  target: { id: string; name: string };
  assessment: { ok: boolean; problems: string[]; checks: { name: string; ok: boolean }[] };
  steps: { name: string; action: string; hostId: string | null; params: Record<string, unknown> }[];
}

interface RunBody {
  id: string;
  kind: string;
  state: string;
  rtoMs: number | null;
  rpoMs: number | null;
  reason: string | null;
  steps: { name: string; state: string }[];
}

interface History {
  drills: {
    id: string;
    state: string;
    mode: string;
    scheduled: boolean;
    rtoMs: number | null;
    reason: string | null;
  }[];
  trend: { drills: number; succeeded: number; failed: number; lastRtoMs: number | null; direction: string };
}

async function finished(id: string): Promise<RunBody> {
  let run: RunBody | undefined;
  await until(async () => {
    run = await api.get<RunBody>(`/dr/runs/${id}`);
    return ["succeeded", "failed", "cancelled"].includes(run.state);
  }, `run ${id} to finish`);
  return run as RunBody;
}

describe("an operator's fleet drill", () => {
  it("restores the host's point into a sandbox on the target, checks it, and takes nothing over", async () => {
    const host = await seedFailedHost(controller, "drill-a");
    const sandbox = await replacementAgent(controller, "drill-sandbox", {
      answer: (job) => ({
        state: JobState.SUCCEEDED,
        details: { restoreMs: 900, checks: 12, job: job.jobId },
      }),
    });
    const plan = await api.post<PlanBody>("/dr/drills", { hostId: "drill-a", targetHostId: "drill-sandbox" });
    expect(plan).toMatchObject({ kind: "drill", mode: "sandbox", host: { name: "drill-a" } });
    expect(plan.assessment.ok).toBe(true);
    expect(plan.steps.map((s) => s.action)).toEqual(["assess", "drill"]);
    expect(plan.steps[1]?.params).toEqual({ recoveryPointId: host.point.id, repository: host.hostId });
    expect(await controller.db.drRun.count({ where: { failedHostId: host.hostId } })).toBe(0);

    const started = await api.post<RunBody>("/dr/drills", {
      hostId: "drill-a",
      targetHostId: "drill-sandbox",
      dryRun: false,
    });
    const run = await finished(started.id);
    expect(run).toMatchObject({ kind: "drill", state: "succeeded" });
    expect(run.rtoMs).toBeGreaterThanOrEqual(0);
    expect(run.rpoMs).toBeGreaterThanOrEqual(3_600_000);
    const drills = sandbox.jobs.filter((j) => j.spec.case === "drill");
    expect(drills.map((j) => j.spec.value)).toEqual([
      expect.objectContaining({ recoveryPointId: host.point.id, repository: host.hostId }),
    ]);
    // A drill takes nothing over: both hosts keep their identity and certificates.
    const hosts = await controller.db.host.findMany({
      where: { id: { in: [host.hostId, sandbox.enrolled.hostId] } },
    });
    expect(hosts.map((h) => h.state)).not.toContain("decommissioned");
    expect(
      await controller.db.agentCertificate.count({
        where: { hostId: host.hostId, revokedAt: { not: null } },
      }),
    ).toBe(0);

    const history = await api.get<History>("/dr/drills?host=drill-a");
    expect(history.drills).toEqual([
      expect.objectContaining({ id: run.id, state: "succeeded", mode: "sandbox", scheduled: false }),
    ]);
    expect(history.trend).toMatchObject({ drills: 1, succeeded: 1, failed: 0, lastRtoMs: run.rtoMs });
    // The host's next restore estimate learns from the drill.
    const next = await api.post<{ estimate: { basis: string; note: string } }>("/dr/drills", {
      hostId: "drill-a",
      targetHostId: "drill-sandbox",
    });
    expect(next.estimate.basis).toBe("history");
    expect(next.estimate.note).toContain("900 ms");
    sandbox.disconnect();
  });

  it("plans a standby drill as the runbook's restore onto the target's services, without the take-over", async () => {
    await seedFailedHost(controller, "standby-a");
    const standby = await replacementAgent(controller, "standby-b");
    const plan = await api.post<PlanBody>("/dr/drills", {
      hostId: "standby-a",
      targetHostId: "standby-b",
      mode: "standby",
    });
    expect(plan.steps.map((s) => s.action)).toEqual([
      "assess",
      "stop-services",
      "restore-database",
      "restore-redis",
      "restore-config",
      "restore-data",
      "start-services",
      "verify-health",
    ]);
    expect(plan.assessment.checks.map((c) => c.name)).toContain("version:db");
    standby.disconnect();
  });

  it("refuses a drill onto the host itself, onto an offline agent, or from a repository the controller does not hold", async () => {
    const host = await seedFailedHost(controller, "refuse-a");
    const offline = await seedFailedHost(controller, "refuse-offline");
    const self = await api.post<PlanBody>("/dr/drills", { hostId: "refuse-a", targetHostId: "refuse-a" });
    expect(self.assessment.problems.join("\n")).toMatch(/drill target is refuse-a itself/);
    const away = await api.post<PlanBody>("/dr/drills", {
      hostId: "refuse-a",
      targetHostId: "refuse-offline",
    });
    expect(away.assessment.problems.join("\n")).toMatch(/refuse-offline has no live session/);
    await controller.db.repository.update({ where: { name: host.hostId }, data: { kind: "local" } });
    const sandbox = await replacementAgent(controller, "refuse-sandbox");
    const local = await api.post<PlanBody>("/dr/drills", {
      hostId: "refuse-a",
      targetHostId: "refuse-sandbox",
    });
    expect(local.assessment.problems.join("\n")).toMatch(/not in a repository on the controller/);
    const err = await api
      .post("/dr/drills", { hostId: "refuse-a", targetHostId: "refuse-sandbox", dryRun: false })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409 });
    expect(
      await controller.db.drRun.count({ where: { failedHostId: { in: [host.hostId, offline.hostId] } } }),
    ).toBe(0);
    sandbox.disconnect();
  });
});

describe("scheduled fleet drills", () => {
  it("runs one drill per slot of the policy's fleetDrillSchedule and keeps the host's RTO trend", async () => {
    const host = await seedFailedHost(controller, "sched-a");
    const sandbox = await replacementAgent(controller, "sched-sandbox");
    await admin.post("/policies", {
      name: "sched-a-drills",
      selector: { "pwdr.io/host": "sched-a" },
      verification: { fleetDrillSchedule: "* * * * * *", fleetDrillHost: "sched-sandbox" },
    });
    const runs = () =>
      controller.db.drRun.findMany({ where: { failedHostId: host.hostId }, orderBy: { createdAt: "asc" } });
    for (let drill = 1; drill <= 2; drill++) {
      // A new second is a new slot; ticks within one slot start nothing more.
      await until(async () => {
        await controller.scheduler.tick();
        return (await runs()).length === drill;
      }, `scheduled drill ${drill}`);
      await controller.scheduler.tick();
      const latest = (await runs()).at(-1);
      expect(latest?.createdBy).toBe("system:fleet-drill");
      expect((await finished(latest?.id as string)).state).toBe("succeeded");
    }
    const all = await runs();
    expect(new Set(all.map((r) => r.slotKey)).size).toBe(all.length);
    expect(all.every((r) => r.slotKey?.startsWith(`${host.hostId}/fleet-drill@`))).toBe(true);

    const history = await api.get<History>("/dr/drills?host=sched-a");
    expect(history.drills.map((d) => [d.state, d.scheduled])).toEqual([
      ["succeeded", true],
      ["succeeded", true],
    ]);
    expect(history.trend).toMatchObject({ drills: 2, succeeded: 2, failed: 0 });
    expect(sandbox.jobs.filter((j) => j.spec.case === "drill")).toHaveLength(2);
    sandbox.disconnect();
  });

  it("records a drill that cannot start as failed, with the reason, once per slot", async () => {
    const host = await seedFailedHost(controller, "broken-a");
    const policy = await admin.post<{ id: string }>("/policies", {
      name: "broken-a-drills",
      selector: { "pwdr.io/host": "broken-a" },
      verification: { fleetDrillSchedule: "0 0 1 1 *", fleetDrillHost: "no-such-agent" },
    });
    // The yearly slot is older than the policy: nothing is owed yet.
    await controller.scheduler.tick();
    expect(await controller.db.drRun.count({ where: { failedHostId: host.hostId } })).toBe(0);

    await admin.patch(`/policies/${policy.id}`, { verification: { fleetDrillSchedule: "* * * * * *" } });
    await until(async () => {
      await controller.scheduler.tick();
      return (await controller.db.drRun.count({ where: { failedHostId: host.hostId } })) > 0;
    }, "the refused drill recorded");
    const [refused] = await controller.db.drRun.findMany({ where: { failedHostId: host.hostId } });
    expect(refused).toMatchObject({ kind: "drill", state: "failed", createdBy: "system:fleet-drill" });
    expect(refused?.reason).toMatch(/could not start: no host "no-such-agent"|no-such-agent/);

    await admin.patch(`/policies/${policy.id}`, {
      verification: { fleetDrillHost: null, fleetDrillSchedule: "* * * * * *" },
    });
    await until(async () => {
      await controller.scheduler.tick();
      const reasons = (await controller.db.drRun.findMany({ where: { failedHostId: host.hostId } })).map(
        (r) => r.reason ?? "",
      );
      return reasons.some((r) => r.includes("no verification.fleetDrillHost"));
    }, "the drill without a target recorded");
    const history = await api.get<History>("/dr/drills?host=broken-a");
    expect(history.trend.succeeded).toBe(0);
    expect(history.trend.failed).toBe(history.drills.length);
    await admin.delete(`/policies/${policy.id}`);
  });
});

describe("the RTO trend", () => {
  const record = (rtoMs: number | null, state = "succeeded"): DrillRecord => ({
    id: String(Math.random()),
    state,
    mode: "sandbox",
    targetHost: null,
    recoveryPointId: null,
    scheduled: true,
    startedAt: new Date(),
    finishedAt: new Date(),
    rtoMs,
    rpoMs: 0,
    reason: null,
  });

  it("compares the median of the last three succeeded drills with the three before", () => {
    const slower = drillTrend([100, 110, 90, 150, 160, 170].map((ms) => record(ms)));
    expect(slower).toMatchObject({
      drills: 6,
      succeeded: 6,
      lastRtoMs: 170,
      recentMedianRtoMs: 160,
      earlierMedianRtoMs: 100,
      direction: "slower",
    });
    expect(drillTrend([200, 210, 190, 100, 95, 105].map((ms) => record(ms))).direction).toBe("faster");
    expect(drillTrend([100, 105, 98, 102, 110, 95].map((ms) => record(ms))).direction).toBe("steady");
  });

  it("leaves failed and unfinished drills out of the RTO, and says unknown without history", () => {
    const running = { ...record(null, "running"), finishedAt: null };
    const trend = drillTrend([record(100), record(null, "failed"), running, record(120)]);
    expect(trend).toMatchObject({ drills: 3, succeeded: 2, failed: 1, lastRtoMs: 120, medianRtoMs: 110 });
    expect(trend.direction).toBe("unknown");
    expect(drillTrend([])).toMatchObject({
      drills: 0,
      lastRtoMs: null,
      medianRtoMs: null,
      direction: "unknown",
    });
  });
});
