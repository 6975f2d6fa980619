import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  captureState,
  definitionOf,
  type HostState,
  type PiHost,
  SESSIONS,
  sql,
  startPiHost,
} from "@pwdr/host/testing";
import { freePort, makeTempDir, startPostgres, startRedis, stopAll, watchPidFile } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonProcess } from "./cli-process.js";
import {
  ControllerProcess,
  connectedSince,
  type EnrolledAgent,
  enrollAgent,
  eventually,
  startAgentDaemon,
} from "./fleet-fixture.js";

afterAll(stopAll);

interface DrStep {
  position: number;
  name: string;
  action: string;
  state: string;
  hostId: string | null;
  startedAt?: string | null;
  finishedAt?: string | null;
  error: string | null;
}

interface DrRun {
  id: string;
  state: string;
  reason: string | null;
  rtoMs: number | null;
  rpoMs: number | null;
  recoveryPointId: string | null;
  steps: DrStep[];
}

interface Agent extends EnrolledAgent {
  daemon: DaemonProcess;
}

/** A replacement machine: its own empty PostgreSQL and Redis (AOF on), paths and app port. */
async function startBareHost(name: string): Promise<Omit<PiHost, "definition">> {
  const root = makeTempDir(`pwdr-host-${name}-`);
  const [pg, redis] = await Promise.all([
    startPostgres(),
    startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
  ]);
  watchPidFile(join(redis.dir, "redis.pid"));
  return {
    root,
    pg,
    redis,
    etc: join(root, "etc/piwardrive"),
    data: join(root, "data"),
    appPort: await freePort(),
  };
}

/** Where drill sandboxes go: the sandbox PostgreSQL runs as postgres, which must be able to enter it. */
function drillDir(): string {
  const dir = makeTempDir("pwdr-drills-");
  chmodSync(dir, 0o711);
  return dir;
}

/** The agent's config: the host definition (JSON is YAML) plus its link to the controller and storage there. */
function writeAgentConfig(host: Omit<PiHost, "definition">, name: string, agentDir: string): string {
  const config = join(agentDir, "agent.yaml");
  writeFileSync(
    config,
    JSON.stringify({
      ...definitionOf(host, name),
      stateDir: join(agentDir, "state"),
      controller: { dataDir: agentDir },
      repository: { controller: true, dataDir: agentDir },
      drills: { workDir: drillDir() },
    }),
  );
  return config;
}

async function healthOf(host: Omit<PiHost, "definition">): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${host.appPort}/api/v1/system/health`);
  return response.status;
}

describe("disaster recovery with real processes", () => {
  let dir: string;
  let controller: ControllerProcess;
  const agents = new Map<string, Agent>();
  const hosts = new Map<string, PiHost>();

  async function enroll(name: string, host: Omit<PiHost, "definition">): Promise<Agent> {
    const agentDir = join(dir, `agent-${name}`);
    const enrolled = await enrollAgent(controller, name, agentDir, { role: "edge" });
    const daemon = startAgentDaemon(writeAgentConfig(host, name, agentDir));
    await daemon.waitForLog("connected to controller", 60_000);
    const agent = { ...enrolled, daemon };
    agents.set(name, agent);
    return agent;
  }

  async function latestPoint(hostId: string): Promise<string> {
    const { db, close } = await controller.openCatalog();
    try {
      return await eventually(`a complete recovery point of ${hostId}`, async () => {
        const point = await db.recoveryPoint.findFirst({
          where: { hostId, status: "complete" },
          orderBy: { time: "desc" },
        });
        return point?.id;
      });
    } finally {
      await close();
    }
  }

  async function waitForRun(id: string, done: (run: DrRun) => boolean, timeoutMs = 240_000): Promise<DrRun> {
    const api = await controller.api();
    return eventually(
      `DR run ${id}`,
      async () => {
        const run = await api.get<DrRun>(`/api/v1/dr/runs/${id}`);
        return done(run) ? run : undefined;
      },
      timeoutMs,
      500,
    );
  }

  beforeAll(async () => {
    dir = makeTempDir("pwdr-e2e-dr-");
    controller = new ControllerProcess({
      dataDir: join(dir, "controller"),
      serveArgs: ["--scheduler-interval", "1s"],
    });
    await controller.start();
    const [a, b, c] = await Promise.all([startPiHost("pi-a"), startPiHost("pi-b"), startPiHost("pi-c")]);
    for (const [name, host] of [
      ["pi-a", a],
      ["pi-b", b],
      ["pi-c", c],
    ] as const) {
      hosts.set(name, host);
      await enroll(name, host);
    }
    const api = await controller.api();
    await api.post("/api/v1/policies", {
      name: "edge",
      selector: { role: "edge" },
      schedule: "*/15 * * * * *",
      retention: { keepLast: 20 },
    });
    for (const agent of agents.values()) await latestPoint(agent.hostId);
    // The schedule has done its part; quiet it so the hosts hold still.
    const { policies } = await api.get<{ policies: { id: string }[] }>("/api/v1/policies");
    await api.call("PATCH", `/api/v1/policies/${policies[0]?.id}`, { schedule: "0 0 1 1 *" });
    const { db, close } = await controller.openCatalog();
    try {
      await eventually("the last scheduled backups to finish", async () =>
        (await db.job.count({ where: { state: { in: ["pending", "dispatched", "running"] } } })) === 0
          ? true
          : undefined,
      );
    } finally {
      await close();
    }
  }, 480_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.daemon.stop("SIGKILL")));
    await controller?.stop("SIGKILL");
  });

  it("drills pi-a's latest point into a sandbox on pi-c on the policy's schedule, checks it and records the RTO", async () => {
    const a = agents.get("pi-a") as Agent;
    const api = await controller.api();
    const { policies } = await api.get<{ policies: { id: string; name: string }[] }>("/api/v1/policies");
    const edge = policies.find((p) => p.name === "edge");
    const drills = await api.post<{ id: string }>("/api/v1/policies", {
      name: "pi-a-drills",
      parentId: edge?.id,
      selector: { name: "pi-a" },
      verification: { fleetDrillSchedule: "*/30 * * * * *", fleetDrillHost: agents.get("pi-c")?.hostId },
    });
    const { db, close } = await controller.openCatalog();
    let runId: string;
    try {
      runId = await eventually(
        "a scheduled drill of pi-a",
        async () => (await db.drRun.findFirst({ where: { kind: "drill", failedHostId: a.hostId } }))?.id,
        60_000,
      ).catch(async (err: Error) => {
        const effective = await api.get(`/api/v1/hosts/${a.hostId}/policy`);
        throw new Error(
          `${err.message}; pi-a's effective policy: ${JSON.stringify(effective)}; the controller's log ends:\n${controller.process?.stderr.slice(-3000)}`,
        );
      });
    } finally {
      await close();
    }
    // One drill is enough here; the restore test below must find pi-a in no other run.
    await api.call("DELETE", `/api/v1/policies/${drills.id}`);
    const run = await waitForRun(runId, (r) => ["succeeded", "failed", "cancelled"].includes(r.state));
    expect(run.state, `${run.reason}; ${JSON.stringify(run.steps)}`).toBe("succeeded");
    expect(run.rtoMs).toBeGreaterThan(0);
    const step = run.steps.find((s) => s.action === "drill") as DrStep & {
      output: { details?: { checks?: number; failedChecks?: unknown[]; restoreMs?: number } };
    };
    expect(step.hostId).toBe(agents.get("pi-c")?.hostId);
    expect(step.output.details?.checks).toBeGreaterThan(0);
    expect(step.output.details?.failedChecks).toEqual([]);
    expect(step.output.details?.restoreMs).toBeGreaterThan(0);
    const history = await api.get<{ trend: { drills: number; succeeded: number; lastRtoMs: number } }>(
      `/api/v1/dr/drills?host=${a.hostId}`,
    );
    expect(history.trend).toMatchObject({ drills: 1, succeeded: 1, lastRtoMs: run.rtoMs });
  }, 180_000);

  it("restores a destroyed host onto a replacement through the API, across a controller restart", async () => {
    const failed = agents.get("pi-a") as Agent;
    const a = hosts.get("pi-a") as PiHost;
    const pointId = await latestPoint(failed.hostId);
    const atPoint: HostState = await captureState(a);

    // Host A is destroyed: agent killed, servers stopped, data gone.
    await failed.daemon.stop("SIGKILL");
    await Promise.all([a.pg.stop(), a.redis.stop()]);
    rmSync(a.root, { recursive: true, force: true });

    const bare = await startBareHost("pi-a-new");
    const replacement = await enroll("pi-a-new", bare);
    const api = await controller.api();
    const request = { failedHostId: failed.hostId, replacementHostId: replacement.hostId };
    const plan = await api.post<{
      recoveryPoint: { id: string };
      assessment: { ok: boolean; problems: string[] };
      steps: { action: string }[];
    }>("/api/v1/dr/restores", request);
    expect(plan.recoveryPoint.id).toBe(pointId);
    expect(plan.assessment).toMatchObject({ ok: true, problems: [] });
    expect(plan.steps.map((s) => s.action)).toEqual([
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
    // The dry run started nothing: the only run so far is the drill above.
    expect((await api.get<{ runs: { kind: string }[] }>("/api/v1/dr/runs")).runs.map((r) => r.kind)).toEqual([
      "drill",
    ]);

    const started = await api.post<{ id: string }>("/api/v1/dr/restores", { ...request, dryRun: false });
    await waitForRun(started.id, (run) =>
      run.steps.some((s) => s.action === "restore-database" && s.state !== "pending"),
    );
    await controller.stop("SIGKILL");
    await controller.start();
    const run = await waitForRun(started.id, (r) => !["running", "cancelling"].includes(r.state));
    expect(run.reason).toBeNull();
    expect(run.state).toBe("succeeded");
    expect(run.steps.every((s) => s.state === "succeeded")).toBe(true);
    expect(run.rtoMs).toBeGreaterThan(0);
    expect(run.rpoMs).toBeGreaterThan(0);

    expect(await healthOf(bare)).toBe(200);
    const restored = await captureState(bare);
    expect(restored.database).toBe(atPoint.database);
    expect(restored.redis).toEqual(atPoint.redis);
    // The host definition excludes *.tmp from the data tree: not in the point, not restored.
    const backedUp = Object.entries(atPoint.files).filter(([path]) => !path.endsWith(".tmp"));
    expect(Object.entries(restored.files)).toEqual(backedUp);

    // The replacement is host A now: its history stays, the old certificate is revoked.
    const { db, close } = await controller.openCatalog();
    try {
      const [oldRow, newRow] = await Promise.all([
        db.host.findUniqueOrThrow({ where: { id: failed.hostId }, include: { certificates: true } }),
        db.host.findUniqueOrThrow({ where: { id: replacement.hostId } }),
      ]);
      expect(newRow.state).toBe("decommissioned");
      expect(oldRow.certificates.some((c) => c.revokedAt === null)).toBe(true);
      expect(oldRow.certificates.some((c) => c.revokedAt !== null)).toBe(true);
      expect(await db.recoveryPoint.count({ where: { hostId: failed.hostId } })).toBeGreaterThan(0);
      const steps = await db.drStep.findMany({ where: { runId: run.id }, include: { run: true } });
      // One successful job per agent step. The kill may cut off a restore that was reading the
      // repository from the controller: that attempt fails as backend_unavailable and the
      // step's retry repeats it (every step is safe to repeat); nothing else fails.
      const agentSteps = steps.filter((s) => s.hostId !== null);
      const jobs = (await db.job.findMany({ where: { idempotencyKey: { startsWith: "dr/" } } })).filter((j) =>
        agentSteps.some((s) => j.idempotencyKey.startsWith(`dr/${s.id}/`)),
      );
      expect(jobs.filter((j) => j.state === "succeeded")).toHaveLength(agentSteps.length);
      const failedJobs = jobs.filter((j) => j.state !== "succeeded");
      expect(
        failedJobs.every((j) => j.kind === "restore" && /backend_unavailable/.test(j.reason ?? "")),
      ).toBe(true);
    } finally {
      await close();
    }
    await eventually("pi-a back online as the replacement", async () => {
      const host = await api.get<{ state: string }>(`/api/v1/hosts/${failed.hostId}`);
      return host.state === "online" ? true : undefined;
    });
  }, 480_000);

  it("runs a two-host plan in order: the database host first, then the app host checks it", async () => {
    const dbAgent = agents.get("pi-b") as Agent;
    const appAgent = agents.get("pi-c") as Agent;
    const b = hosts.get("pi-b") as PiHost;
    const pointId = await latestPoint(dbAgent.hostId);
    await sql(b.pg, "piwardrive", "DROP VIEW strong_networks; DROP TABLE wifi_detections");
    const psql = join(b.pg.binDir, "psql");
    const check = `${psql} -h ${b.pg.host} -p ${b.pg.port} -U postgres -d piwardrive -Atc "SELECT count(DISTINCT session_id) FROM wifi_detections" | grep -qx ${SESSIONS}`;
    const api = await controller.api();
    // The controller restarted in the test before: both agents must have their sessions back.
    for (const agent of [dbAgent, appAgent]) {
      await eventually(`${agent.name} connected again`, async () =>
        connectedSince(agent.daemon, controller.startedAt) ? true : undefined,
      );
    }
    const started = await api.post<{ id: string }>("/api/v1/dr/plans/run", {
      dryRun: false,
      steps: [
        {
          name: "restore-db-host",
          hostId: dbAgent.hostId,
          action: "restore-database",
          params: { recoveryPointId: pointId, sources: ["db"] },
        },
        {
          name: "app-host-sees-the-data",
          hostId: appAgent.hostId,
          action: "command",
          params: { command: check, timeoutSeconds: 30 },
        },
      ],
    });
    const run = await waitForRun(started.id, (r) => !["running", "cancelling"].includes(r.state));
    expect(run.reason).toBeNull();
    expect(run.state).toBe("succeeded");
    const [first, second] = run.steps;
    expect(new Date(first?.finishedAt ?? 0).getTime()).toBeLessThanOrEqual(
      new Date(second?.startedAt ?? 0).getTime(),
    );
  }, 240_000);
});
