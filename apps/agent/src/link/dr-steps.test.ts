import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  captureState,
  fileDigests,
  type HostState,
  type PiHost,
  redisService,
  sql,
  startPiHost,
  withRedis,
} from "@pwdr/host/testing";
import { CONTROLLER_TLS_NAME, type JobSchema, JobState, ServiceAction } from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import {
  createTestCa,
  makeTempDir,
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
  stopAll,
  watchPidFile,
} from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveIdentity } from "../agent-identity.js";
import { type AgentConfig, agentConfigSchema } from "../config/agent-config.js";
import { Daemon } from "../daemon/daemon.js";
import { configuredExecutor } from "./job-executor.js";
import { FakeController } from "./test-support/fake-controller.js";

type JobInit = MessageInitShape<typeof JobSchema>;

/**
 * The agent's side of a central restore: host A backs up into its
 * repository on the (fake) controller; a replacement agent with its own
 * PostgreSQL, Redis and paths runs the DR plan's steps as ordinary jobs
 * over a real session, reading A's repository only once it is granted.
 */
let dir: string;
let controller: FakeController;
let a: PiHost;
let before: HostState;
let pointId: string;
let b: { pg: PostgresServer; redis: RedisServer; root: string; etc: string; data: string; services: string };
let daemon: Daemon;
let app: Server;
let appAnswer = { status: 200, body: "" };
let jobs = 0;

afterAll(async () => {
  await daemon?.stop();
  await controller?.stop();
  app?.close();
  await stopAll();
});

beforeAll(async () => {
  dir = makeTempDir("pwdr-dr-agent-");
  const pki = await createTestCa();
  const server = await pki.issueServer({ commonName: CONTROLLER_TLS_NAME, dnsNames: [CONTROLLER_TLS_NAME] });
  const repoDir = join(dir, "repos/host-a");
  await Repository.init(new LocalBackend(repoDir), "pw-of-a", { kdf: { N: 1024, r: 8, p: 1 } });
  controller = new FakeController({ caPem: pki.ca.certPem, identity: server }, 0, {
    "host-a": { dir: repoDir, password: "pw-of-a" },
    "host-b": { dir: join(dir, "repos/host-b"), password: "pw-of-b" },
  });
  controller.ackResults = true;
  await controller.start();
  const enroll = async (host: string) => {
    const agentDir = join(dir, `agent-${host}`);
    await saveIdentity(agentDir, {
      hostId: host,
      hostName: host,
      sessionAddress: `127.0.0.1:${controller.port}`,
      caPem: pki.ca.certPem,
      tls: await pki.issueClient(host),
    });
    return agentDir;
  };

  a = await startPiHost("pi-a");
  const configA = agentConfigSchema.parse({
    host: "pi-a",
    stateDir: join(dir, "state-a"),
    logLevel: "error",
    controller: { dataDir: await enroll("host-a") },
    repository: { controller: true },
    sources: [
      ...a.definition.sources,
      { kind: "files", name: "logs", paths: [join(a.root, "data/scans/2026-11-01")] },
    ],
  });
  const backup = await configuredExecutor(configA)(
    { jobId: "backup-a", attempt: 1, spec: { case: "backup", value: { sources: [], tags: [] } } } as never,
    { signal: new AbortController().signal, log: () => {}, onProgress: () => {} },
  );
  expect(backup.state).toBe("succeeded");
  pointId = backup.recoveryPoint?.id as string;
  before = await captureState(a);

  const [pg, redis] = await Promise.all([
    startPostgres(),
    startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
  ]);
  watchPidFile(join(redis.dir, "redis.pid"));
  const root = makeTempDir("pwdr-dr-replacement-");
  b = {
    pg,
    redis,
    root,
    etc: join(root, "opt/pw/etc"),
    data: join(root, "srv/pw-data"),
    services: join(root, "services.log"),
  };
  app = createServer((_req, res) => {
    res.writeHead(appAnswer.status, { "content-type": "application/json" });
    res.end(appAnswer.body);
  });
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  daemon = new Daemon(replacementConfig(await enroll("host-b")));
  await daemon.start();
}, 180_000);

function replacementConfig(agentDir: string): AgentConfig {
  return agentConfigSchema.parse({
    host: "pi-b",
    stateDir: join(dir, "state-b"),
    logLevel: "error",
    controller: { dataDir: agentDir },
    repository: { controller: true },
    sources: [
      {
        kind: "postgres",
        name: "db",
        connection: { port: b.pg.port, binDir: b.pg.binDir },
        databases: ["pw_b"],
      },
      {
        kind: "redis",
        name: "cache",
        connection: { port: b.redis.port },
        dataDir: b.redis.dir,
        service: redisService(b.redis),
      },
      { kind: "config", name: "config", paths: [b.etc] },
      { kind: "files", name: "data", paths: [b.data], exclude: ["*.tmp"] },
    ],
    services: { type: "commands", stop: `echo stop >>${b.services}`, start: `echo start >>${b.services}` },
    health: {
      url: `http://127.0.0.1:${(app.address() as AddressInfo).port}/api/v1/system/health`,
      attempts: 3,
      intervalMs: 100,
    },
  });
}

/** Sends one job to the replacement and waits for its result. */
async function run(spec: NonNullable<JobInit["spec"]>) {
  const jobId = `dr-step-${++jobs}`;
  await controller.waitFor(() => controller.connected("host-b"), "the replacement's session");
  controller.send({ case: "job", value: { jobId, attempt: 1, spec } }, "host-b");
  const result = await controller.waitFor(
    () => controller.of("result").find((r) => r.value.jobId === jobId)?.value,
    `the result of ${jobId}`,
    120_000,
  );
  return { ...result, details: JSON.parse(result.detailsJson || "{}") };
}

function restoreStep(
  sources: string[],
  extra: { dryRun?: boolean; repository?: string; include?: string[] } = {},
) {
  return {
    case: "restore" as const,
    value: { recoveryPointId: pointId, sources, repository: "host-a", manageServices: false, ...extra },
  };
}

/** A's data tree as backed up: its source excludes *.tmp. */
function backedUpData(): Record<string, string> {
  const { "/scans/partial.tmp": _excluded, ...rest } = fileDigests(a.data);
  return rest;
}

const replacementState = () => captureState({ ...a, pg: b.pg, redis: b.redis }, "pw_b", []);

describe("a replacement host runs the steps of a central restore", () => {
  it("says hello with its servers' versions (asked live: it never backed up) and its disk space", async () => {
    const hello = await controller.waitFor(
      () => controller.of("hello").find((h) => h.host === "host-b")?.value,
      "the replacement's hello",
    );
    const versions = Object.fromEntries(hello.sources.map((s) => [s.name, s.version]));
    expect(versions.db).toMatch(/^1\d\.\d+/);
    expect(versions.cache).toMatch(/^\d+\.\d+\.\d+$/);
    expect(versions.config).toBe("");
    expect(hello.facts?.diskFreeBytes).toBeGreaterThan(0n);
  });

  it("cannot read the failed host's repository until the controller grants it", async () => {
    const result = await run(restoreStep(["db"], { dryRun: true }));
    expect(result.state).toBe(JobState.FAILED);
    expect(result.error).toMatchObject({ code: "access_denied", retryable: false });
    expect(result.error?.message).toMatch(/does not let this host read repository host-a/);
    controller.grants.add("host-b>host-a");
  });

  it("refuses a restore of a source its config lacks, naming it and its kind, before touching anything", async () => {
    const result = await run(restoreStep([]));
    expect(result.state).toBe(JobState.FAILED);
    expect(result.error).toMatchObject({ code: "source_missing", retryable: false });
    expect(result.error?.message).toMatch(/logs \(files\), which this host's config lacks/);
    expect(existsSync(b.etc)).toBe(false);
  });

  it("plans a dry run into its own layout: ports, databases, paths, sizes and versions", async () => {
    const result = await run(restoreStep(["db", "cache", "config", "data"], { dryRun: true }));
    expect(result.state).toBe(JobState.SUCCEEDED);
    const plan = result.details;
    expect(plan).toMatchObject({ status: "planned", dryRun: true, repository: "host-a" });
    expect(plan.recoveryPoint).toMatchObject({ id: pointId, host: "pi-a" });
    const touches = Object.fromEntries(
      plan.steps.map((s: { source: string; touches: string[] }) => [s.source, s.touches]),
    );
    expect(touches.db).toEqual([`postgres://127.0.0.1:${b.pg.port}/pw_b`]);
    expect(touches.cache).toEqual([b.redis.dir, `redis://127.0.0.1:${b.redis.port}`]);
    expect(touches.config).toEqual([b.etc]);
    expect(touches.data).toEqual([b.data]);
    expect(plan.steps.map((s: { kind: string }) => s.kind)).not.toContain("stop-services");
    expect(plan.bytesTotal).toBeGreaterThan(0);
    expect(plan.versions.map((v: { source: string }) => v.source)).toEqual(["db", "cache"]);
    expect(existsSync(b.etc)).toBe(false);
    const databases = await sql(b.pg, "postgres", "SELECT 1 FROM pg_database WHERE datname = 'pw_b'");
    expect(databases.rowCount).toBe(0);
  });

  it("stops the services, restores database, Redis, then config and data, and starts the services", async () => {
    expect(
      (await run({ case: "serviceAction", value: { action: ServiceAction.STOP, services: [] } })).state,
    ).toBe(JobState.SUCCEEDED);
    await sql(b.pg, "postgres", "CREATE DATABASE pw_b");
    const db = await run(restoreStep(["db"]));
    expect(db.error).toBeUndefined();
    expect(db.details.steps.map((s: { kind: string }) => s.kind)).toEqual(["restore-postgres"]);
    expect((await replacementState()).database).toBe(before.database);

    const cache = await run(restoreStep(["cache"]));
    expect(cache.error).toBeUndefined();
    expect((await replacementState()).redis).toEqual(before.redis);

    const trees = await run(restoreStep(["config", "data"]));
    expect(trees.error).toBeUndefined();
    expect(fileDigests(b.etc)).toEqual(fileDigests(a.etc));
    expect(fileDigests(b.data)).toEqual(backedUpData());

    expect(
      (await run({ case: "serviceAction", value: { action: ServiceAction.START, services: [] } })).state,
    ).toBe(JobState.SUCCEEDED);
    expect(readFileSync(b.services, "utf8")).toBe("stop\nstart\n");
    // The failed host's own servers and files were only read.
    expect(await withRedis(a.redis, (c) => c.get("piwardrive:version"))).toBe("4.2.0");
    expect(await captureState(a)).toEqual(before);
  });

  it("gives the same result when a step is sent again (the controller re-sends after a restart)", async () => {
    await sql(b.pg, "pw_b", "DELETE FROM settings");
    await withRedis(b.redis, (c) => c.set("stray", "1"));
    for (const sources of [["db"], ["cache"], ["config", "data"]]) {
      expect((await run(restoreStep(sources))).state).toBe(JobState.SUCCEEDED);
    }
    const after = await replacementState();
    expect(after.database).toBe(before.database);
    expect(after.redis).toEqual(before.redis);
    expect(fileDigests(b.etc)).toEqual(fileDigests(a.etc));
    for (let i = 0; i < 2; i++) {
      const start = await run({
        case: "serviceAction",
        value: { action: ServiceAction.START, services: [] },
      });
      expect(start.state).toBe(JobState.SUCCEEDED);
    }
  });
});

describe("a restore job with paths to include", () => {
  it("plans, then restores only the included directory of a data source into the host's layout", async () => {
    const day = "scans/2026-11-02";
    rmSync(join(b.data, day), { recursive: true });
    writeFileSync(join(b.data, "scans/2026-11-01/wifi-0.json"), "edited on the host");
    const include = [join(a.data, day)];

    const plan = await run(restoreStep(["data"], { dryRun: true, include }));
    expect(plan.state).toBe(JobState.SUCCEEDED);
    const [step] = plan.details.steps;
    expect(step).toMatchObject({ kind: "restore-files", touches: [join(b.data, day)] });
    expect(step.result).toMatchObject({
      files: 5,
      placements: [{ path: include[0], target: join(b.data, day) }],
    });
    expect(plan.details.bytesTotal).toBe(step.bytes);
    expect(existsSync(join(b.data, day))).toBe(false);

    const restored = await run(restoreStep(["data"], { include }));
    expect(restored.error).toBeUndefined();
    expect(restored.state).toBe(JobState.SUCCEEDED);
    const expected = Object.entries(backedUpData()).filter(([path]) => path.startsWith(`/${day}/`));
    const now = fileDigests(b.data);
    expect(expected).toHaveLength(5);
    for (const [path, digest] of expected) expect(now[path]).toBe(digest);
    expect(readFileSync(join(b.data, "scans/2026-11-01/wifi-0.json"), "utf8")).toBe("edited on the host");
  });

  it("fails, naming the path, when an included path is not in the snapshot or the source has no paths", async () => {
    const missing = join(a.data, "scans/2027-01-01");
    const absent = await run(restoreStep(["data"], { include: [missing] }));
    expect(absent.state).toBe(JobState.FAILED);
    expect(absent.error).toMatchObject({ code: "path_not_found", retryable: false });
    expect(absent.error?.message).toContain(missing);
    expect(existsSync(join(b.data, "scans/2027-01-01"))).toBe(false);

    const dump = await run(restoreStep(["db"], { include: ["/piwardrive"] }));
    expect(dump.state).toBe(JobState.FAILED);
    expect(dump.error).toMatchObject({ code: "invalid_argument" });
    expect(dump.error?.message).toMatch(/source "db" is postgres/);
  });
});

describe("health-check and command jobs", () => {
  it("waits for the config's health check and reports the last answer without secrets", async () => {
    appAnswer = { status: 200, body: JSON.stringify({ status: "ok", dbPassword: "hunter2" }) };
    const result = await run({ case: "healthCheck", value: { url: "" } });
    expect(result.state).toBe(JobState.SUCCEEDED);
    expect(result.details).toMatchObject({ healthy: true, attempts: 1, last: { status: 200 } });
    expect(result.details.last.body).toContain('"status":"ok"');
    expect(result.detailsJson).not.toContain("hunter2");
    expect(result.details.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("fails with unhealthy when the application never answers OK within the time-out", async () => {
    appAnswer = { status: 503, body: "database unreachable" };
    const result = await run({ case: "healthCheck", value: { url: "", timeout: { seconds: 1n } } });
    expect(result.state).toBe(JobState.FAILED);
    expect(result.error).toMatchObject({ code: "unhealthy", retryable: true });
    expect(result.error?.message).toMatch(/last: status 503/);
    expect(result.details).toMatchObject({
      healthy: false,
      last: { status: 503, body: "database unreachable" },
    });
    expect(result.details.attempts).toBeGreaterThan(1);
  });

  it("checks a URL given in the job instead of the config's", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/health`;
    await new Promise((resolve) => closed.close(resolve));
    const result = await run({ case: "healthCheck", value: { url, timeout: { seconds: 1n } } });
    expect(result.error?.code).toBe("unhealthy");
    expect(result.details).toMatchObject({ url, last: { error: "ECONNREFUSED" } });
  });

  it("runs a command through /bin/sh and reports its exit and last output lines", async () => {
    const ok = await run({
      case: "command",
      value: { command: "for i in $(seq 1 30); do echo line $i; done; echo warn >&2" },
    });
    expect(ok.state).toBe(JobState.SUCCEEDED);
    expect(ok.details).toMatchObject({ exitCode: 0, timedOut: false });
    expect(ok.details.output).toHaveLength(20);
    expect(ok.details.output.at(-1)).toBe("warn");
    expect(ok.details.output[0]).toBe("line 12");
  });

  it("fails with command_failed on a non-zero exit, and kills a command past its time-out", async () => {
    const bad = await run({
      case: "command",
      value: { command: "echo checking; echo no quorum >&2; exit 3" },
    });
    expect(bad.state).toBe(JobState.FAILED);
    expect(bad.error).toMatchObject({ code: "command_failed", retryable: false });
    expect(bad.error?.message).toMatch(/exited with status 3 \(last output: no quorum\)/);
    expect(bad.details).toMatchObject({ exitCode: 3, output: ["checking", "no quorum"] });

    const slow = await run({ case: "command", value: { command: "sleep 30", timeout: { seconds: 1n } } });
    expect(slow.error?.code).toBe("command_failed");
    expect(slow.details).toMatchObject({ timedOut: true, signal: "SIGTERM" });
  });
});
