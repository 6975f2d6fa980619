import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  freePort,
  makeTempDir,
  type PostgresServer,
  type RedisServer,
  redisServerBinary,
  startPostgres,
  startRedis,
  stopAll,
  watchPidFile,
} from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, DaemonProcess, runCli } from "./cli-process.js";
import { digests, pgDump, psql, redisCli, redisState } from "./source-probes.js";

afterAll(stopAll);

interface Run {
  job: string;
  trigger: string;
  status: string;
  error?: string;
  recoveryPoint?: string;
  details?: { restoreMs?: number; checks?: number };
}

describe("the agent daemon on its own (real PostgreSQL, Redis with AOF, files)", () => {
  let dir: string;
  let config: string;
  let pg: PostgresServer;
  let redis: RedisServer;
  let data: string;
  let metricsPort: number;
  const agent = (...args: string[]) => runCli(AGENT_MAIN, [...args, "-c", config], 120_000);
  const history = async (): Promise<Run[]> =>
    JSON.parse((await agent("history", "--json", "--limit", "100")).stdout);

  beforeAll(async () => {
    dir = makeTempDir("pwdr-e2e-daemon-");
    [pg, redis] = await Promise.all([
      startPostgres({ databases: ["piwardrive"] }),
      startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
    ]);
    watchPidFile(join(redis.dir, "redis.pid"));
    psql(
      pg,
      "piwardrive",
      "CREATE TABLE scans (id serial PRIMARY KEY, ssid text, rssi int); INSERT INTO scans (ssid, rssi) SELECT 'net-' || g, -g % 90 FROM generate_series(1, 2000) g; CREATE VIEW strong AS SELECT * FROM scans WHERE rssi > -50",
    );
    redisCli(redis, "SET", "piwardrive:version", "4.2.0");
    redisCli(redis, "SET", "session", "abc", "EX", "7200");
    redisCli(redis, "-n", "1", "RPUSH", "queue", "a", "b");
    data = join(dir, "data");
    for (const day of ["2026-11-25", "2026-11-26"]) {
      mkdirSync(join(data, "scans", day), { recursive: true });
      for (let i = 0; i < 4; i++)
        writeFileSync(
          join(data, "scans", day, `wifi-${i}.json`),
          JSON.stringify({ day, i }).repeat(50 * (i + 1)),
        );
    }
    writeFileSync(join(dir, "repo.password"), "daemon e2e password\n");
    metricsPort = await freePort();
    const redisPid = join(redis.dir, "redis.pid");
    config = join(dir, "agent.yaml");
    writeFileSync(
      config,
      `host: pi-daemon
stateDir: ${join(dir, "state")}
logLevel: info
repository: { path: ${join(dir, "repo")}, passwordFile: ${join(dir, "repo.password")} }
sources:
  - { kind: postgres, name: db, connection: { port: ${pg.port}, binDir: ${pg.binDir} }, databases: [piwardrive] }
  - kind: redis
    name: cache
    connection: { port: ${redis.port} }
    dataDir: ${redis.dir}
    service:
      type: commands
      stop: pid=$(cat ${redisPid}) && kill $pid && while kill -0 $pid 2>/dev/null; do sleep 0.05; done
      start: ${redisServerBinary()} ${redis.configFile} --daemonize yes
  - { kind: files, name: data, paths: [${data}] }
schedules: { backup: "*/4 * * * * *", check: "*/9 * * * * *", drill: "*/11 * * * * *", catchUp: once }
verify: { readDataSubset: 50% }
metrics: { port: ${metricsPort} }
shutdownGraceMs: 20000
`,
    );
    const init = await runCli(AGENT_MAIN, [
      "init",
      "-r",
      join(dir, "repo"),
      "--password-file",
      join(dir, "repo.password"),
    ]);
    expect(init.code, init.stderr).toBe(0);
  }, 120_000);

  it("runs scheduled backups and checks, serves metrics, stops cleanly, and the CLI restores a wiped host", async () => {
    const checked = await agent("config", "check");
    expect(checked.code, checked.stderr).toBe(0);
    const daemon = new DaemonProcess(AGENT_MAIN, ["daemon", "-c", config]);
    await daemon.waitForLog("agent daemon started");
    let runs: Run[] = [];
    for (let i = 0; i < 120; i++) {
      runs = await history();
      const backups = runs.filter((r) => r.job === "backup" && r.status === "ok");
      const done = (job: string) => runs.some((r) => r.job === job && r.status !== "running");
      if (backups.length >= 2 && done("check") && done("drill")) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      runs.filter((r) => r.job === "backup" && r.status === "ok").length,
      JSON.stringify(runs),
    ).toBeGreaterThanOrEqual(2);
    expect(
      runs.some((r) => r.job === "check" && r.status === "ok"),
      JSON.stringify(runs),
    ).toBe(true);
    expect(runs.every((r) => r.trigger === "schedule")).toBe(true);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/pwdr_job_last_success_timestamp_seconds\{job="backup"\} \d+/);
    expect(metrics).toMatch(/pwdr_source_last_bytes\{source="db",kind="postgres"\} [1-9]/);
    expect(metrics).toMatch(/pwdr_repository_size_bytes [1-9]/);
    expect(metrics).not.toContain("daemon e2e password");

    expect(await daemon.stop("SIGTERM")).toBe(0);
    expect(daemon.lines.some((l) => l.msg === "agent daemon stopped")).toBe(true);
    const status = JSON.parse((await agent("status", "--json")).stdout);
    expect(status.daemon.running).toBe(false);
    expect(
      status.sources.map((s: { source: string; lastStatus: string }) => `${s.source}:${s.lastStatus}`),
    ).toEqual(["db:ok", "cache:ok", "data:ok"]);
    expect((await history()).some((r) => r.status === "running")).toBe(false);

    const before = { db: pgDump(pg, "piwardrive"), redis: redisState(redis), files: digests(data) };
    psql(pg, "postgres", "DROP DATABASE piwardrive");
    redisCli(redis, "FLUSHALL");
    redisCli(redis, "-n", "1", "FLUSHDB");
    rmSync(data, { recursive: true });

    const restore = await agent("host", "restore", "latest", "--yes", "--json");
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout).status).toBe("done");
    expect(pgDump(pg, "piwardrive")).toBe(before.db);
    expect(redisState(redis)).toEqual(before.redis);
    expect(digests(data)).toEqual(before.files);
  }, 240_000);

  it("catches up a run missed while it was down, once", async () => {
    // Longer than the longest schedule interval (11 s): every job has missed a run.
    await new Promise((r) => setTimeout(r, 11_500));
    const daemon = new DaemonProcess(AGENT_MAIN, ["daemon", "-c", config]);
    await daemon.waitForLog("catching up a missed run");
    // One catch-up run per job; stop only once all three have ended (SIGTERM drops waiting runs).
    const finishedCatchUps = async () =>
      (await history()).filter((r) => r.trigger === "catch-up" && r.status !== "running").length;
    for (let i = 0; i < 120 && (await finishedCatchUps()) < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(await daemon.stop("SIGTERM")).toBe(0);
    const caughtUp = (await history()).filter((r) => r.trigger === "catch-up");
    expect(caughtUp.map((r) => r.job).sort()).toEqual(["backup", "check", "drill"]);
    expect(caughtUp.map((r) => `${r.job}:${r.status}:${r.error ?? ""}`).sort()).toEqual([
      "backup:ok:",
      "check:ok:",
      "drill:ok:",
    ]);
  }, 120_000);
});
