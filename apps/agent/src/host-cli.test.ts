import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
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

afterAll(stopAll);

const MAIN = join(import.meta.dirname, "main.ts");
const PASSWORD = "host cli test password";

/**
 * Asynchronous on purpose: the harness's Redis is this process's child, and a
 * blocked event loop could not reap it when the stop hook kills it.
 */
function agent(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--conditions=development", "--import", "tsx", MAIN, ...args], {
      env: { ...process.env, PWDR_PASSWORD: PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function psql(server: PostgresServer, database: string, sql: string): string {
  const r = spawnSync(
    join(server.binDir, "psql"),
    ["-h", server.host, "-p", String(server.port), "-U", "postgres", "-d", database, "-Atc", sql],
    {
      encoding: "utf8",
    },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

function redisCli(redis: RedisServer, ...args: string[]): string {
  const cli = join(redisServerBinary(), "..", "redis-cli");
  return spawnSync(cli, ["-p", String(redis.port), ...args], { encoding: "utf8" }).stdout.trim();
}

describe("pwdr-agent host backup / points / restore (real processes)", () => {
  let dir: string;
  let repo: string;
  let definition: string;
  let pg: PostgresServer;
  let redis: RedisServer;
  let etc: string;

  beforeAll(async () => {
    dir = makeTempDir("pwdr-host-cli-");
    repo = join(dir, "repo");
    [pg, redis] = await Promise.all([
      startPostgres({ databases: ["piwardrive"] }),
      startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
    ]);
    watchPidFile(join(redis.dir, "redis.pid"));
    psql(
      pg,
      "piwardrive",
      "CREATE TABLE scans (id serial PRIMARY KEY, ssid text); INSERT INTO scans (ssid) SELECT 'net-' || g FROM generate_series(1, 500) g",
    );
    redisCli(redis, "SET", "piwardrive:version", "4.2.0");
    etc = join(dir, "etc/piwardrive");
    mkdirSync(etc, { recursive: true });
    writeFileSync(join(etc, "config.yaml"), "scan_interval: 30\n");
    const pidFile = join(redis.dir, "redis.pid");
    definition = join(dir, "host.yaml");
    writeFileSync(
      definition,
      `host: pi-cli
sources:
  - kind: postgres
    name: db
    connection: { port: ${pg.port}, binDir: ${pg.binDir} }
    databases: [piwardrive]
  - kind: redis
    name: cache
    connection: { port: ${redis.port} }
    dataDir: ${redis.dir}
    service:
      type: commands
      stop: pid=$(cat ${pidFile}) && kill $pid && while kill -0 $pid 2>/dev/null; do sleep 0.05; done
      start: ${redisServerBinary()} ${redis.configFile} --daemonize yes
  - kind: config
    name: config
    paths: [${etc}]
`,
    );
    expect((await agent(["init", "-r", repo])).code).toBe(0);
  }, 120_000);

  it("takes a recovery point, lists it, and restores a wiped host after a dry run and a confirmation", async () => {
    const backup = await agent(["host", "backup", "-r", repo, "-d", definition, "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    const point = JSON.parse(backup.stdout);
    expect(point).toMatchObject({ host: "pi-cli", status: "complete" });
    expect(point.sources.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      "db:ok",
      "cache:ok",
      "config:ok",
    ]);

    const points = await agent(["host", "points", "-r", repo]);
    expect(points.code).toBe(0);
    expect(points.stdout).toContain(point.id);

    psql(pg, "postgres", "DROP DATABASE piwardrive");
    redisCli(redis, "FLUSHALL");
    rmSync(etc, { recursive: true });

    const dry = await agent(["host", "restore", "latest", "-r", repo, "-d", definition, "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/restore-postgres\s+db/);
    expect(dry.stdout).toContain("dry run: nothing was changed");
    expect(redisCli(redis, "DBSIZE")).toBe("0");

    const unconfirmed = await agent(["host", "restore", "latest", "-r", repo, "-d", definition]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes to confirm/);

    const restore = await agent([
      "host",
      "restore",
      "latest",
      "-r",
      repo,
      "-d",
      definition,
      "--yes",
      "--json",
    ]);
    expect(restore.code, restore.stderr).toBe(0);
    const report = JSON.parse(restore.stdout);
    expect(report.status).toBe("done");
    expect(report.steps.map((s: { kind: string }) => s.kind)).toEqual([
      "restore-postgres",
      "restore-redis",
      "restore-config",
    ]);
    expect(psql(pg, "piwardrive", "SELECT count(*) FROM scans")).toBe("500");
    expect(redisCli(redis, "GET", "piwardrive:version")).toBe("4.2.0");
    expect(redisCli(redis, "CONFIG", "GET", "appendonly")).toBe("appendonly\nyes");
    expect(readFileSync(join(etc, "config.yaml"), "utf8")).toBe("scan_interval: 30\n");
  }, 180_000);

  it("reports a partial recovery point with a non-zero exit and names what failed", async () => {
    const broken = join(dir, "broken.yaml");
    writeFileSync(
      broken,
      readFileSync(definition, "utf8").replace("databases: [piwardrive]", "databases: [gone]"),
    );
    const backup = await agent(["host", "backup", "-r", repo, "-d", broken]);
    expect(backup.code).toBe(20);
    expect(backup.stdout).toMatch(/partial/);
    expect(backup.stdout).toMatch(/db\s+postgres\s+failed.*"gone"/);
  }, 120_000);

  it("refuses an invalid definition with the key, line and column", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "sources:\n  - kind: postgres\n    name: db\n    databases: piwardrive\n");
    const r = await agent(["host", "backup", "-r", repo, "-d", bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/4:16 sources\.0\.databases: .*expected array/);
  });
});
