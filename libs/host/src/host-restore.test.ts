import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LocalBackend, listSnapshots, Repository } from "@pwdr/repo";
import { makeTempDir, startPostgres, startRedis, stopAll, watchPidFile } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostDefinitionSchema } from "./definition/host-definition.js";
import { waitHealthy } from "./health/wait-healthy.js";
import { createRecoveryPoint } from "./recovery-point/create-recovery-point.js";
import { listRecoveryPoints } from "./recovery-point/find-recovery-points.js";
import type { RecoveryPoint } from "./recovery-point/recovery-point.js";
import { restoreHost } from "./restore/restore-host.js";
import type { StepReport } from "./restore/restore-step.js";
import { serviceHooks } from "./services/service-hooks.js";
import {
  captureState,
  fileDigests,
  type HostState,
  type PiHost,
  redisService,
  SESSIONS,
  sql,
  startPiHost,
  withRedis,
} from "./test-support/pi-host.js";

afterAll(stopAll);

let host: PiHost;
let repo: Repository;
let point: RecoveryPoint;
let before: HostState;

beforeAll(async () => {
  host = await startPiHost("pi-a");
  repo = await Repository.init(new LocalBackend(join(makeTempDir("pwdr-host-repo-"), "repo")), "host test", {
    kdf: { N: 1024, r: 8, p: 1 },
  });
  await serviceHooks(host.definition.services as NonNullable<typeof host.definition.services>, "app").start();
  await waitHealthy(host.definition.health as NonNullable<typeof host.definition.health>);
  point = await createRecoveryPoint(repo, host.definition);
  before = await captureState(host);
}, 120_000);

describe("a recovery point", () => {
  it("holds one snapshot per source with versions, counts and a status each", async () => {
    expect(point.status).toBe("complete");
    expect(point.host).toBe("pi-a");
    expect(point.appVersion).toBe("4.2.0");
    expect(point.sources.map((s) => [s.name, s.kind, s.status])).toEqual([
      ["db", "postgres", "ok"],
      ["cache", "redis", "ok"],
      ["config", "config", "ok"],
      ["data", "files", "ok"],
    ]);
    const [db, cache, config, data] = point.sources;
    expect(db?.version).toMatch(/^1\d\.\d+/);
    expect(db?.counts).toEqual({
      "table:piwardrive.public.sessions": SESSIONS,
      "table:piwardrive.public.settings": 1,
      "table:piwardrive.public.wifi_detections": 5000,
    });
    expect(cache?.version).toMatch(/^7\./);
    expect(cache?.counts).toEqual({ "redis:db0": 52, "redis:db2": 1 });
    expect(config?.counts).toMatchObject({ files: 4, certificates: 1, "certificates:expiring": 1 });
    expect(config?.warnings.join("\n")).toMatch(/server\.pem.*expires/);
    expect(data?.files).toBe(15);
    const snapshots = await listSnapshots(repo, { host: "pi-a", tags: [`rp:${point.id}`] });
    expect(snapshots.map((s) => s.source?.kind).sort()).toEqual([
      "config",
      "files",
      "postgres",
      "recovery-point",
      "redis",
    ]);
  });

  it("records a failing source with its reason, still backs up the others, and is marked partial", async () => {
    const broken = hostDefinitionSchema.parse({
      ...host.definition,
      sources: host.definition.sources.map((s) =>
        s.kind === "postgres" ? { ...s, databases: ["no_such_db"] } : s,
      ),
    });
    const partial = await createRecoveryPoint(repo, broken);
    expect(partial.status).toBe("partial");
    const db = partial.sources.find((s) => s.name === "db");
    expect(db).toMatchObject({ status: "failed", error: { code: "source_failed" } });
    expect(db?.error?.message).toMatch(/no_such_db/);
    expect(db?.snapshotId).toBeUndefined();
    expect(partial.sources.filter((s) => s.status === "ok").map((s) => s.name)).toEqual([
      "cache",
      "config",
      "data",
    ]);
    // "latest" skips it; asking for it by id is refused unless a partial restore is allowed.
    await expect(
      restoreHost(repo, { recoveryPoint: partial.id, fromHost: "pi-a", dryRun: true }),
    ).rejects.toThrow(/is partial: db \(.*no_such_db/);
    const points = await listRecoveryPoints(repo, { host: "pi-a" });
    expect(points.map((p) => p.status)).toEqual(["complete", "partial"]);
  });

  it("never records a secret", async () => {
    const text = JSON.stringify(point);
    expect(text).not.toContain("do-not-print");
    expect(text).not.toContain("PRIVATE KEY");
  });
});

describe("host restore", () => {
  it("plans without touching anything in a dry run", async () => {
    writeFileSync(join(host.data, "marker"), "still here");
    const report = await restoreHost(repo, {
      recoveryPoint: "latest",
      target: host.definition,
      dryRun: true,
    });
    expect(report.status).toBe("planned");
    expect(report.steps.map((s) => [s.kind, s.source ?? ""])).toEqual([
      ["stop-services", ""],
      ["restore-postgres", "db"],
      ["restore-redis", "cache"],
      ["restore-config", "config"],
      ["restore-files", "data"],
      ["start-services", ""],
      ["verify-health", ""],
    ]);
    expect(report.steps[1]?.touches).toEqual([`postgres://127.0.0.1:${host.pg.port}/piwardrive`]);
    expect(report.steps.every((s) => s.status === "pending")).toBe(true);
    expect(existsSync(join(host.data, "marker"))).toBe(true);
    rmSync(join(host.data, "marker"));
  });

  it("brings a wiped host back in the runbook's order, identical and healthy", async () => {
    // The disaster: database dropped, Redis emptied with stray files left behind, config and data deleted.
    await serviceHooks(redisService(host.redis) as never, "redis").stop();
    writeFileSync(join(host.redis.dir, "dump.rdb"), "stale");
    writeFileSync(join(host.redis.dir, "temp-77.rdb"), "half");
    rmSync(join(host.redis.dir, "appendonlydir"), { recursive: true, force: true });
    await serviceHooks(redisService(host.redis) as never, "redis").start();
    await sql(host.pg, "postgres", "DROP DATABASE piwardrive WITH (FORCE)");
    rmSync(host.etc, { recursive: true });
    rmSync(host.data, { recursive: true });

    const events: StepReport[] = [];
    const report = await restoreHost(repo, {
      recoveryPoint: "latest",
      target: host.definition,
      onStep: (s) => events.push(s),
    });
    expect(report.failure).toBeUndefined();
    expect(report.status).toBe("done");
    // The runbook's chain in order; application data beside it, done before the services start.
    const done = events.filter((e) => e.status === "done").map((e) => e.kind);
    const chain = done.filter((k) => k !== "restore-files");
    expect(chain).toEqual([
      "stop-services",
      "restore-postgres",
      "restore-redis",
      "restore-config",
      "start-services",
      "verify-health",
    ]);
    expect(done.indexOf("restore-files")).toBeLessThan(done.indexOf("start-services"));
    const started = events.filter((e) => e.status === "running").map((e) => e.kind);
    expect(started.indexOf("restore-files")).toBeLessThan(started.indexOf("restore-redis"));
    expect(report.steps[1]?.result).toMatchObject({
      databases: ["piwardrive"],
      rowsVerified: SESSIONS + 5000 + 1,
    });
    expect(report.steps[2]?.result).toMatchObject({
      counts: { "redis:db0": 52, "redis:db2": 1 },
      aof: "restored",
    });
    expect(report.steps[6]?.result).toMatchObject({ status: 200 });
    expect(report.rpoMs).toBeGreaterThan(0);
    const after = await captureState(host);
    expect(after.database).toBe(before.database);
    expect(after.redis).toEqual(before.redis);
    // The data source excludes "*.tmp": everything else is back.
    const kept = Object.fromEntries(Object.entries(before.files).filter(([path]) => !path.endsWith(".tmp")));
    expect(after.files).toEqual(kept);
    expect(Object.keys(kept)).toHaveLength(19);
    expect(readdirSync(host.redis.dir).filter((n) => n.startsWith(".pwdr-") || n === "temp-77.rdb")).toEqual(
      [],
    );
  }, 120_000);

  it("stops at the failing step, says so, and reports the rest as skipped", async () => {
    const unhealthy = hostDefinitionSchema.parse({
      ...host.definition,
      health: { url: `http://127.0.0.1:${host.appPort}/nope`, attempts: 20, intervalMs: 200 },
    });
    const report = await restoreHost(repo, { recoveryPoint: "latest", target: unhealthy, only: ["config"] });
    expect(report.status).toBe("failed");
    expect(report.steps.map((s) => s.status)).toEqual(["done", "done", "done", "failed"]);
    expect(report.failure).toMatch(
      /stopped at verify-health: the health check .*\/nope did not answer 200 in 20 attempts .*status 404/,
    );
  }, 60_000);

  it("does not start the services when the data restored beside the chain fails", async () => {
    const blocked = join(makeTempDir("pwdr-blocked-"), "a-file");
    writeFileSync(blocked, "not a directory");
    const report = await restoreHost(repo, {
      recoveryPoint: "latest",
      target: host.definition,
      only: ["config", "data"],
      mapping: { paths: { [host.data]: join(blocked, "data") } },
    });
    expect(report.status).toBe("failed");
    expect(report.steps.map((s) => `${s.kind}:${s.status}`)).toEqual([
      "stop-services:done",
      "restore-config:done",
      "restore-files:failed",
      "start-services:skipped",
      "verify-health:skipped",
    ]);
    expect(report.failure).toMatch(/stopped at restore-files \(data\).*left stopped/);
    await serviceHooks(
      host.definition.services as NonNullable<typeof host.definition.services>,
      "app",
    ).start();
  }, 60_000);

  it("restores onto a replacement with other ports, database names and paths", async () => {
    const [pg2, redis2] = await Promise.all([
      startPostgres(),
      startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
    ]);
    watchPidFile(join(redis2.dir, "redis.pid"));
    const newRoot = makeTempDir("pwdr-replacement-");
    const target = hostDefinitionSchema.parse({
      host: "pi-b",
      sources: [
        {
          kind: "redis",
          name: "cache",
          connection: { port: redis2.port },
          dataDir: redis2.dir,
          service: redisService(redis2),
        },
      ],
    });
    const report = await restoreHost(repo, {
      recoveryPoint: point.id,
      fromHost: "pi-a",
      target,
      mapping: {
        ports: { [String(host.pg.port)]: pg2.port },
        databases: { piwardrive: "piwardrive_b" },
        paths: { [host.etc]: join(newRoot, "etc"), [host.data]: join(newRoot, "srv/data") },
      },
    });
    expect(report.failure).toBeUndefined();
    expect(report.steps.map((s) => s.kind)).toEqual([
      "restore-postgres",
      "restore-redis",
      "restore-config",
      "restore-files",
    ]);
    const moved = { ...host, pg: pg2, redis: redis2 };
    const after = await captureState(moved, "piwardrive_b", []);
    expect(after.database).toBe(before.database);
    expect(after.redis).toEqual(before.redis);
    expect(fileDigests(join(newRoot, "etc"))).toEqual(fileDigests(host.etc));
    expect(Object.keys(fileDigests(join(newRoot, "srv/data")))).toHaveLength(15);
    expect(fileDigests(join(newRoot, "srv/data"))).toEqual(fileDigests(host.data));
    // The original host was not touched.
    expect(await withRedis(host.redis, (c) => c.get("piwardrive:version"))).toBe("4.2.0");
  }, 120_000);

  it("refuses a files-mode Redis without the service control its restore needs", async () => {
    const target = hostDefinitionSchema.parse({
      host: "pi-c",
      sources: [
        { kind: "redis", name: "cache", connection: { port: host.redis.port }, dataDir: host.redis.dir },
      ],
    });
    await expect(
      restoreHost(repo, { recoveryPoint: "latest", fromHost: "pi-a", target, only: ["cache"], dryRun: true }),
    ).rejects.toThrow(/"cache" \(Redis, files mode\) needs dataDir and service/);
  });
});
