import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { CONTROLLER_TLS_NAME } from "@pwdr/protocol";
import {
  makeTempDir,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
} from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, type DaemonProcess, runCli } from "./cli-process.js";
import {
  ControllerProcess,
  type EnrolledAgent,
  enrollAgent,
  eventually,
  startAgentDaemon,
} from "./fleet-fixture.js";
import { psql, redisCli } from "./source-probes.js";

interface FleetHost extends EnrolledAgent {
  config: string;
  daemon?: DaemonProcess;
}

interface JournalRun {
  id: string;
  job: string;
  trigger: string;
  status: string;
  recoveryPoint?: string;
}

export interface FleetCatalog {
  name: string;
  postgres: boolean;
}

/** HH:MM in the controller's time zone (the test's), `minutes` from now. */
function clock(minutes: number): string {
  const at = new Date(Date.now() + minutes * 60_000);
  return `${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")}`;
}

/** The largest number of runs in progress at one moment. */
function maxOverlap(runs: { startedAt: Date; finishedAt: Date | null }[]): number {
  const edges = runs.flatMap((r) => [
    { at: r.startedAt.getTime(), delta: 1 },
    { at: (r.finishedAt ?? new Date()).getTime(), delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let open = 0;
  let max = 0;
  for (const e of edges) {
    open += e.delta;
    max = Math.max(max, open);
  }
  return max;
}

/**
 * The fleet suite of issue 6, once per catalog provider (one file each, so the
 * two run side by side): three agent processes and a controller on loopback.
 */
export function fleetSuite(catalog: FleetCatalog): void {
  describe(`a fleet of three agents with the catalog on ${catalog.name} (real processes)`, () => {
    let dir: string;
    let pg: PostgresServer;
    const redis: RedisServer[] = [];
    let controller: ControllerProcess;
    const hosts: FleetHost[] = [];

    const agentCli = (host: FleetHost, ...args: string[]) =>
      runCli(AGENT_MAIN, [...args, "-c", host.config, "--json"], 60_000);
    const journal = async (host: FleetHost): Promise<JournalRun[]> =>
      JSON.parse((await agentCli(host, "history", "--limit", "1000")).stdout) as JournalRun[];
    const outboxEmpty = (host: FleetHost) => {
      const outbox = join(host.dataDir, "state", "outbox");
      return readdirSync(outbox).filter((f) => !f.startsWith(".")).length === 0;
    };

    // pi-a keeps its own repository, so it can back up while the controller (which
    // stores the others' repositories) is down.
    function repositoryOf(host: EnrolledAgent, index: number): string {
      if (index === 0) {
        writeFileSync(join(host.dataDir, "repo.password"), "fleet e2e password\n", { mode: 0o600 });
        return `{ path: ${join(host.dataDir, "repo")}, passwordFile: ${join(host.dataDir, "repo.password")} }`;
      }
      return `{ controller: true, dataDir: ${host.dataDir}${index === 2 ? ", bandwidthLimit: 1M" : ""} }`;
    }

    function writeConfig(host: EnrolledAgent, index: number): string {
      const cache = redis[index] as RedisServer;
      const data = join(dir, `data-${host.name}`);
      mkdirSync(join(data, "scans"), { recursive: true });
      for (let i = 0; i < 4; i++)
        writeFileSync(
          join(data, "scans", `wifi-${i}.json`),
          JSON.stringify({ host: host.name, i }).repeat(300),
        );
      // Host C's backup is slow on purpose (a bandwidth limit over incompressible data): the
      // controller is restarted while it runs.
      if (index === 2) writeFileSync(join(data, "capture.pcap"), randomBytes(6 * 1024 * 1024));
      const config = join(host.dataDir, "agent.yaml");
      writeFileSync(
        config,
        `host: ${host.name}
stateDir: ${join(host.dataDir, "state")}
controller: { dataDir: ${host.dataDir} }
repository: ${repositoryOf(host, index)}
sources:
  - { kind: postgres, name: db, connection: { port: ${pg.port}, binDir: ${pg.binDir} }, databases: [${host.name.replace("-", "_")}] }
  - { kind: redis, name: cache, connection: { port: ${cache.port} }, dataDir: ${cache.dir} }
  - { kind: files, name: data, paths: [${data}] }
retry: { attempts: 2, initialDelayMs: 200, maxDelayMs: 1000 }
`,
      );
      return config;
    }

    beforeAll(async () => {
      dir = makeTempDir("pwdr-e2e-fleet3-");
      pg = await startPostgres({ databases: ["pi_a", "pi_b", "pi_c"] });
      for (const db of ["pi_a", "pi_b", "pi_c"]) {
        psql(
          pg,
          db,
          `CREATE TABLE scans (id serial PRIMARY KEY, ssid text); INSERT INTO scans (ssid) SELECT '${db}-' || g FROM generate_series(1, 1000) g`,
        );
      }
      for (let i = 0; i < 3; i++) {
        const server = await startRedis({ appendonly: true });
        redisCli(server, "SET", "piwardrive:host", `pi-${i}`);
        redisCli(server, "SET", "session", "abc", "EX", "7200");
        redis.push(server);
      }
      const catalogUrl = catalog.postgres ? await pg.createDatabase("pwdr_catalog") : undefined;
      controller = new ControllerProcess({
        dataDir: join(dir, "controller"),
        ...(catalogUrl ? { catalogUrl } : {}),
        serveArgs: ["--scheduler-interval", "1s", "--max-jobs-per-repository", "1"],
      });
      await controller.start();
      for (const [i, name] of ["pi-a", "pi-b", "pi-c"].entries()) {
        const enrolled = await enrollAgent(controller, name, join(dir, name), { role: "edge", site: "lab" });
        hosts.push({ ...enrolled, config: writeConfig(enrolled, i) });
      }
      const [a] = hosts as [FleetHost];
      const init = await runCli(AGENT_MAIN, [
        "init",
        "-r",
        join(a.dataDir, "repo"),
        "--password-file",
        join(a.dataDir, "repo.password"),
      ]);
      expect(init.code, init.stderr).toBe(0);
    }, 240_000);

    afterAll(async () => {
      await Promise.all(hosts.map((h) => h.daemon?.stop("SIGKILL")));
      await controller?.stop("SIGKILL");
    });

    it("assigns the policy by label and runs scheduled backups on all three, one at a time, inside the window", async () => {
      const api = await controller.api();
      const fleet = await api.post<{ id: string }>("/api/v1/policies", {
        name: "fleet",
        selector: {},
        retention: { keepLast: 50 },
        scheduling: { window: { start: clock(-60), end: clock(180) }, jitter: "1s", rpo: "1h" },
      });
      await api.post("/api/v1/policies", {
        name: "edge",
        parentId: fleet.id,
        selector: { role: "edge" },
        schedule: "*/10 * * * * *",
      });
      const effective = await api.get<Record<string, unknown>>(`/api/v1/hosts/${hosts[0]?.hostId}/policy`);
      expect(JSON.stringify(effective)).toContain("*/10 * * * * *");

      for (const host of hosts) host.daemon = startAgentDaemon(host.config);
      const { db, close } = await controller.openCatalog();
      try {
        const firstRuns = await eventually(
          "a scheduled backup of every host in the catalog",
          async () => {
            const runs = await db.jobRun.findMany({
              where: { state: "succeeded", job: { kind: "backup", schedule: "backup" } },
              include: { job: true, recoveryPoint: { include: { snapshots: true } } },
            });
            const done = new Set(runs.map((r) => r.hostId));
            return hosts.every((h) => done.has(h.hostId)) ? runs : undefined;
          },
          120_000,
        );
        for (const run of firstRuns) {
          expect(run.recoveryPoint?.status).toBe("complete");
          expect(run.recoveryPoint?.snapshots.map((s) => s.sourceName).sort()).toEqual([
            "cache",
            "data",
            "db",
          ]);
          expect(run.job.dispatchedAt).not.toBeNull();
        }
        const all = await db.jobRun.findMany({ where: { job: { kind: "backup" } } });
        expect(maxOverlap(all)).toBe(1);
        // The limit did hold jobs back: three hosts share every slot.
        const jobs = await db.job.findMany({ where: { kind: "backup", dispatchedAt: { not: null } } });
        expect(jobs.some((j) => (j.dispatchedAt as Date).getTime() - j.scheduledFor.getTime() > 1_000)).toBe(
          true,
        );
        const hostsInCatalog = await db.host.findMany({ where: { id: { in: hosts.map((h) => h.hostId) } } });
        expect(hostsInCatalog.map((h) => h.state)).toEqual(["online", "online", "online"]);
        expect(hostsInCatalog.every((h) => h.rpoBreachedSince === null)).toBe(true);
      } finally {
        await close();
      }
    }, 240_000);

    it("records every backup once when the agents ran two of them alone while the controller was down", async () => {
      const [a] = hosts as [FleetHost];
      // Only runs pi-a scheduled itself count: a run the controller dispatched just
      // before it stopped may still finish while it is away.
      const ranAlone = async () =>
        (await journal(a)).filter(
          (r) => r.job === "backup" && r.status === "ok" && r.trigger !== "controller",
        ).length;
      const before = await ranAlone();
      await controller.stop("SIGTERM");
      await eventually(
        "two backups on pi-a while the controller is away",
        async () => ((await ranAlone()) >= before + 2 ? true : undefined),
        90_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; pi-a's log ends:\n${a.daemon?.stderr.slice(-4000)}`);
      });
      await controller.start();
      await eventually("the outboxes to drain", async () => (hosts.every(outboxEmpty) ? true : undefined));

      // Quiet the schedule so that journal and catalog can be compared at rest.
      const api = await controller.api();
      const policies = await api.get<{ policies: { id: string; name: string }[] }>("/api/v1/policies");
      const edge = policies.policies.find((p) => p.name === "edge");
      await api.call("PATCH", `/api/v1/policies/${edge?.id}`, { schedule: "0 0 1 1 *" });
      const { db, close } = await controller.openCatalog();
      try {
        // At rest: no catalog job in flight, no run going on any agent (a run the agent
        // scheduled itself is not a catalog job until its result arrives), every outbox empty.
        const atRest = async () =>
          (await db.job.count({ where: { state: { in: ["dispatched", "running"] } } })) === 0 &&
          hosts.every(outboxEmpty) &&
          (await Promise.all(hosts.map(journal))).every((runs) => runs.every((r) => r.status !== "running"));
        const mismatches = async () => {
          const found: string[] = [];
          for (const host of hosts) {
            const finished = (await journal(host)).filter((r) => r.job === "backup");
            const runs = await db.jobRun.findMany({
              where: { hostId: host.hostId, job: { kind: "backup" } },
            });
            const keys = new Set(runs.map((r) => r.idempotencyKey));
            const ids = new Set(finished.map((r) => r.id));
            for (const r of finished)
              if (!keys.has(r.id))
                found.push(`${host.name}: journal run not in the catalog ${JSON.stringify(r)}`);
            for (const r of runs)
              if (!ids.has(r.idempotencyKey))
                found.push(`${host.name}: catalog run ${r.idempotencyKey} not in the journal (${r.state})`);
            const points = await db.recoveryPoint.findMany({ where: { hostId: host.hostId } });
            const expected = finished.flatMap((r) => (r.recoveryPoint ? [r.recoveryPoint] : [])).sort();
            const actual = points.map((p) => p.id).sort();
            if (JSON.stringify(actual) !== JSON.stringify(expected))
              found.push(
                `${host.name}: recovery points ${JSON.stringify(actual)}, journal ${JSON.stringify(expected)}`,
              );
          }
          return found;
        };
        let last: string[] = [];
        await eventually(
          "journal and catalog to agree at rest",
          async () => {
            if (!(await atRest())) return undefined;
            last = await mismatches();
            return last.length === 0 ? true : undefined;
          },
          60_000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}:\n${last.join("\n")}`);
        });
        expect(
          await db.jobRun.count({ where: { hostId: a.hostId, locallyScheduled: true } }),
        ).toBeGreaterThanOrEqual(2);
      } finally {
        await close();
      }
    }, 240_000);

    it("completes a backup that was running when the controller was killed, and records it once", async () => {
      const c = hosts[2] as FleetHost;
      const api = await controller.api();
      const job = await api.post<{ id: string }>("/api/v1/jobs", {
        hostId: c.hostId,
        kind: "backup",
        spec: {},
      });
      let catalogDb = await controller.openCatalog();
      // Killed once data is flowing: the agent has its repository and is uploading.
      await eventually("the backup uploading on pi-c", async () => {
        const runs = await catalogDb.db.jobRun.findMany({ where: { jobId: job.id, state: "running" } });
        const progress = runs[0]?.progress as { bytesDone?: number } | null | undefined;
        return (progress?.bytesDone ?? 0) > 0 ? true : undefined;
      });
      await catalogDb.close();
      await controller.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, 1_000));
      await controller.start();
      catalogDb = await controller.openCatalog();
      try {
        const done = await eventually(
          "the backup recorded as succeeded",
          async () => {
            const row = await catalogDb.db.job.findUnique({ where: { id: job.id }, include: { runs: true } });
            return row?.state === "succeeded" ? row : undefined;
          },
          120_000,
        ).catch(async (err: Error) => {
          const row = await catalogDb.db.job.findUnique({ where: { id: job.id }, include: { runs: true } });
          throw new Error(
            `${err.message}; job: ${JSON.stringify(row, (_k, v) => (typeof v === "bigint" ? Number(v) : v))}; pi-c's log ends:\n${c.daemon?.stderr.slice(-4000)}`,
          );
        });
        expect(done.runs).toHaveLength(1);
        const points = await catalogDb.db.recoveryPoint.findMany({
          where: { jobRunId: done.runs[0]?.id ?? "" },
        });
        expect(points).toHaveLength(1);
        expect(points[0]?.status).toBe("complete");
      } finally {
        await catalogDb.close();
      }
    }, 240_000);

    it("answers malformed REST input with 4xx errors, never a 5xx, and keeps serving", async () => {
      const api = await controller.api();
      const [a] = hosts as [FleetHost];
      const cases: [string, string, unknown][] = [
        ["POST", "/api/v1/jobs", { hostId: a.hostId, kind: "teleport" }],
        ["POST", "/api/v1/jobs", { hostId: "no-such-host", kind: "backup" }],
        ["POST", "/api/v1/jobs", "{not json"],
        ["POST", "/api/v1/jobs", { hostId: a.hostId, kind: "restore", spec: { recoveryPointId: 7 } }],
        ["GET", "/api/v1/jobs/00000000-0000-0000-0000-000000000000", undefined],
        ["GET", "/api/v1/jobs?limit=-3", undefined],
        ["POST", "/api/v1/policies", { name: "Bad Name!", schedule: "every day" }],
        ["PATCH", "/api/v1/policies/nope", { schedule: "61 * * * *" }],
      ];
      for (const [method, path, body] of cases) {
        const response = await api.send<{ error?: { code: string; message: string } }>(method, path, body);
        expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(response.status, `${method} ${path}`).toBeLessThan(500);
        expect(response.body?.error?.message, `${method} ${path}`).toBeTruthy();
      }
      expect((await api.send("GET", "/api/v1/health")).status).toBe(200);
    });

    it("refuses an unenrolled client at TLS, a replayed token, and garbage on the session stream", async () => {
      const anonymous = await sessionStatus(
        controller,
        grpc.credentials.createSsl(Buffer.from(controller.caPem)),
      );
      expect(anonymous).toBe(grpc.status.UNAVAILABLE);

      const api = await controller.api();
      const { token } = await api.post<{ token: string }>("/api/v1/enrollment-tokens", { ttl: "5m" });
      const enroll = (dataDir: string) =>
        runCli(AGENT_MAIN, [
          "enroll",
          "--controller",
          controller.enrollAddress,
          "--token",
          token,
          "--data-dir",
          dataDir,
        ]);
      const first = await enroll(join(dir, "once"));
      expect(first.code, first.stderr).toBe(0);
      const replay = await enroll(join(dir, "twice"));
      expect(replay.code).toBe(1);
      expect(replay.stderr).toContain("already used");

      const status = await sessionStatus(controller, credentialsOf(controller, join(dir, "once")));
      expect([grpc.status.INTERNAL, grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION]).toContain(
        status,
      );
      expect((await api.send("GET", "/api/v1/health")).status).toBe(200);
    });

    it("cuts off a revoked agent mid-stream", async () => {
      const b = hosts[1] as FleetHost;
      const api = await controller.api();
      await api.post(`/api/v1/hosts/${b.hostId}/revoke`, { reason: "stolen" });
      await eventually("pi-b refused", async () =>
        b.daemon?.lines.some((l) => String(l.msg).includes("refused this agent's certificate"))
          ? true
          : undefined,
      );
      const { db, close } = await controller.openCatalog();
      try {
        await eventually("pi-b offline", async () =>
          (await db.host.findUnique({ where: { id: b.hostId } }))?.state === "offline" ? true : undefined,
        );
      } finally {
        await close();
      }
    });
  });
}

function credentialsOf(controller: ControllerProcess, agentDir: string): grpc.ChannelCredentials {
  const identity = join(agentDir, "identity");
  return grpc.credentials.createSsl(
    Buffer.from(controller.caPem),
    readFileSync(join(identity, "agent.key")),
    readFileSync(join(identity, "agent.crt")),
  );
}

/** Opens a session and sends bytes that are not an AgentMessage; returns the status the stream ends with. */
async function sessionStatus(
  controller: ControllerProcess,
  credentials: grpc.ChannelCredentials,
): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${controller.ports.session}`, credentials, {
    "grpc.ssl_target_name_override": CONTROLLER_TLS_NAME,
  });
  try {
    return await new Promise<number>((resolve) => {
      const call = client.makeBidiStreamRequest(
        "/pwdr.v1.AgentSessionService/Session",
        (b: Buffer) => b,
        (b: Buffer) => b,
      );
      call.on("error", (err: grpc.ServiceError) => resolve(err.code));
      call.on("data", () => undefined);
      call.write(Buffer.from([0xff, 0xff, 0xff, 0x07, 0x00]));
    });
  } finally {
    client.close();
  }
}
