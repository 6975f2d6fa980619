import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createTestCa,
  freePort,
  makeTempDir,
  type PostgresServer,
  type RedisServer,
  redisServerBinary,
  startPostgres,
  startRedis,
  watchPidFile,
} from "@pwdr/test-harness";
import { Redis } from "ioredis";
import pg from "pg";
import { type HostDefinition, hostDefinitionSchema } from "../definition/host-definition.js";

const HEALTH_APP = new URL("./health-app.mjs", import.meta.url).pathname;
export const SESSIONS = 20;

/** A PiWardrive-like schema: serial ids, jsonb, a FK, indexes, a view, a function, a sequence, an app role. */
const SCHEMA = `
  CREATE ROLE pw_app LOGIN PASSWORD 'app-pw';
  CREATE TABLE sessions (id serial PRIMARY KEY, device text NOT NULL);
  CREATE TABLE wifi_detections (
    id bigserial PRIMARY KEY, session_id int NOT NULL REFERENCES sessions(id),
    bssid text NOT NULL, rssi int, info jsonb NOT NULL DEFAULT '{}');
  CREATE INDEX wifi_bssid_idx ON wifi_detections (bssid);
  CREATE TABLE settings (key text PRIMARY KEY, value jsonb);
  ALTER TABLE settings OWNER TO pw_app;
  CREATE VIEW strong_networks AS SELECT bssid, max(rssi) AS rssi FROM wifi_detections WHERE rssi > -60 GROUP BY bssid;
  CREATE FUNCTION network_count(s int) RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT count(DISTINCT bssid) FROM wifi_detections WHERE session_id = s $$;
  CREATE SEQUENCE export_batch_seq START 100;
  SELECT setval('export_batch_seq', 142);
  INSERT INTO sessions (device) SELECT 'pi-' || g FROM generate_series(1, ${SESSIONS}) g;
  INSERT INTO wifi_detections (session_id, bssid, rssi, info)
    SELECT 1 + g % ${SESSIONS}, md5(g::text), -30 - g % 70, jsonb_build_object('channel', g % 13, 'seen', g)
      FROM generate_series(1, 5000) g;
  INSERT INTO settings VALUES ('gps', '{"baud": 9600}');
`;

/** One PiWardrive host: real PostgreSQL and Redis (AOF on), config with a certificate, data, a health app. */
export interface PiHost {
  root: string;
  pg: PostgresServer;
  redis: RedisServer;
  etc: string;
  data: string;
  appPort: number;
  definition: HostDefinition;
}

export async function startPiHost(name: string): Promise<PiHost> {
  const root = makeTempDir(`pwdr-host-${name}-`);
  const [pgServer, redis] = await Promise.all([
    startPostgres(),
    startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
  ]);
  watchPidFile(join(redis.dir, "redis.pid"));
  await sql(pgServer, "postgres", "CREATE DATABASE piwardrive");
  await sql(pgServer, "piwardrive", SCHEMA);
  await fillRedis(redis);
  const etc = join(root, "etc/piwardrive");
  const data = join(root, "data");
  await writeConfigTree(etc);
  writeDataTree(data);
  const appPort = await freePort();
  const host: PiHost = {
    root,
    pg: pgServer,
    redis,
    etc,
    data,
    appPort,
    definition: undefined as unknown as HostDefinition,
  };
  host.definition = definitionOf(host, name);
  return host;
}

export function definitionOf(
  host: Omit<PiHost, "definition">,
  name: string,
  database = "piwardrive",
): HostDefinition {
  const pidFile = join(host.root, "app.pid");
  watchPidFile(pidFile);
  const app = `node ${HEALTH_APP} ${host.appPort} ${host.pg.port} ${database} ${host.redis.port} sessions ${SESSIONS}`;
  return hostDefinitionSchema.parse({
    host: name,
    appVersionCommand: "echo 4.2.0",
    sources: [
      {
        kind: "postgres",
        name: "db",
        connection: { port: host.pg.port, binDir: host.pg.binDir },
        databases: ["piwardrive"],
      },
      {
        kind: "redis",
        name: "cache",
        connection: { port: host.redis.port },
        dataDir: host.redis.dir,
        service: redisService(host.redis),
      },
      { kind: "config", name: "config", paths: [host.etc] },
      { kind: "files", name: "data", paths: [host.data], exclude: ["*.tmp"] },
    ],
    services: {
      type: "commands",
      stop: `kill $(cat ${pidFile}) 2>/dev/null; rm -f ${pidFile}`,
      start: `${app} >${join(host.root, "app.log")} 2>&1 & echo $! >${pidFile}`,
    },
    health: {
      url: `http://127.0.0.1:${host.appPort}/api/v1/system/health`,
      attempts: 40,
      intervalMs: 250,
      timeoutMs: 2000,
    },
  });
}

/** Stop waits until the process is gone; start daemonizes with the same config (pid file included). */
export function redisService(redis: RedisServer) {
  const pidFile = join(redis.dir, "redis.pid");
  return {
    type: "commands" as const,
    stop: `pid=$(cat ${pidFile}) && kill $pid && while kill -0 $pid 2>/dev/null; do sleep 0.05; done`,
    start: `${redisServerBinary()} ${redis.configFile} --daemonize yes`,
  };
}

export async function sql(server: PostgresServer, database: string, text: string) {
  const client = new pg.Client({ host: server.host, port: server.port, user: "postgres", database });
  try {
    await client.connect();
    return await client.query(text);
  } finally {
    await client.end();
  }
}

async function fillRedis(redis: RedisServer): Promise<void> {
  await withRedis(redis, async (c) => {
    await c.set("piwardrive:version", "4.2.0");
    for (let i = 0; i < 50; i++) await c.hset(`device:${i}`, { mac: `aa:bb:${i}`, seen: String(i) });
    await c.set("session:current", "abc", "EX", 3600);
    await c.select(2);
    await c.rpush("upload:queue", "a", "b", "c");
  });
}

export async function withRedis<T>(redis: RedisServer, use: (c: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: redis.host,
    port: redis.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  await client.connect();
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

async function writeConfigTree(etc: string): Promise<void> {
  mkdirSync(join(etc, "tls"), { recursive: true });
  writeFileSync(join(etc, "config.yaml"), "scan_interval: 30\nupload: true\n");
  writeFileSync(join(etc, ".env"), "PIWARDRIVE_SECRET=do-not-print\n");
  chmodSync(join(etc, ".env"), 0o600);
  const server = await (await createTestCa()).issueServer({ commonName: "pi.local" });
  writeFileSync(join(etc, "tls/server.pem"), server.certPem);
  writeFileSync(join(etc, "tls/server.key"), server.keyPem, { mode: 0o600 });
}

function writeDataTree(data: string): void {
  for (let day = 1; day <= 3; day++) {
    const dir = join(data, `scans/2026-11-0${day}`);
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 5; i++)
      writeFileSync(join(dir, `wifi-${i}.json`), JSON.stringify({ day, i, pad: "x".repeat(2000 * i) }));
  }
  writeFileSync(join(data, "scans/partial.tmp"), "half");
}

/** What must come back identical: the database (schema, data, roles), Redis keys with values and TTLs, files. */
export interface HostState {
  database: string;
  redis: Record<string, string>;
  files: Record<string, string>;
}

export async function captureState(
  host: Omit<PiHost, "definition">,
  database = "piwardrive",
  trees = [host.etc, host.data],
): Promise<HostState> {
  return {
    database: logicalDump(host.pg, database),
    redis: await redisDataset(host.redis),
    files: Object.assign({}, ...trees.map((t) => fileDigests(t))),
  };
}

function logicalDump(server: PostgresServer, database: string): string {
  const env = { ...process.env, PGHOST: server.host, PGPORT: String(server.port), PGUSER: "postgres" };
  const run = (tool: string, args: string[]) => {
    const r = spawnSync(join(server.binDir, tool), args, {
      env,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr}`);
    return r.stdout;
  };
  return (run("pg_dumpall", ["--globals-only"]) + run("pg_dump", ["-d", database]))
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("--") && !/^\\(un)?restrict /.test(l))
    .join("\n");
}

/** db:key → DUMP bytes and whether it has a TTL (hours-long TTLs, so a restore a few seconds later keeps them). */
async function redisDataset(redis: RedisServer): Promise<Record<string, string>> {
  return withRedis(redis, async (c) => {
    const out: Record<string, string> = {};
    for (let db = 0; db < 16; db++) {
      await c.select(db);
      for (const key of await c.keys("*")) {
        const dump = await c.dumpBuffer(key);
        const ttl = await c.pttl(key);
        out[`${db}:${key}`] = `${dump?.toString("hex")} ttl:${ttl > 3_500_000 ? "hour" : ttl}`;
      }
    }
    return out;
  });
}

/** Relative path → sha256 and mode of every file under `dir`. */
export function fileDigests(dir: string, base = dir): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) Object.assign(out, fileDigests(path, base));
    else if (entry.isFile()) {
      const digest = createHash("sha256").update(readFileSync(path)).digest("hex");
      out[path.slice(base.length)] = `${digest} ${(statSync(path).mode & 0o7777).toString(8)}`;
    }
  }
  return out;
}
