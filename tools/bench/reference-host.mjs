// The reference PiWardrive host of the restore benchmarks (host-bench.mjs,
// dr-bench.mjs): a throwaway PostgreSQL and Redis (appendonly yes, pid file)
// started with @pwdr/test-harness, database `piwardrive` from gen-pg.sql,
// Redis filled by gen-redis.mjs, a config tree with a certificate and the
// data/logs trees of gen-files.mjs (all from /work/shared/bench). Also the
// raw tools' restore of the same data, the checks that a restore brought
// everything back, and the wipe between runs.
//
// A host is a plain object (`h`) from startHostServers: its paths, servers,
// the environment its PostgreSQL tools need (h.env) and the shell commands
// that stop, start and wait for its Redis. Layout under h.root, the same on
// every host so a tar of one extracts onto another: etc/piwardrive,
// srv/data, srv/logs.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { timedRun } from "./bench-util.mjs";

export const ROOT = resolve(import.meta.dirname, "../..");
export const SHARED_BENCH = resolve(ROOT, "../shared/bench");
export const DB = "piwardrive";
export const TABLES = ["scan_sessions", "wifi_detections", "bluetooth_detections", "gps_tracks"];
export const MiB = 1048576;

export const sh = (cmd, args, options = {}) =>
  (
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 28, ...options }) ?? ""
  ).toString();
export const bash = (script, env = process.env) => sh("bash", ["-o", "pipefail", "-c", script], { env });
export const duBytes = (path) => Number(sh("du", ["-sb", path]).split("\t")[0]);

/** Builds the packages a benchmark loads from dist (nx skips what is up to date). */
export function buildProjects(projects) {
  sh("npx", ["nx", "run-many", "-t", "build", "-p", ...projects, "--outputStyle=static"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/**
 * Runs `cleanup` once on SIGINT/SIGTERM and exits; the caller also runs it
 * in a `finally`. `what` says what is being removed.
 */
export function cleanupOnSignals(cleanup, what) {
  for (const sig of ["SIGINT", "SIGTERM"])
    process.on(sig, () => {
      console.error(`\n${sig}: ${what()}`);
      cleanup().finally(() => process.exit(130));
    });
}

function hostLayout(harness, root, pg, redis, baseEnv) {
  const pidFile = join(redis.dir, "redis.pid");
  const redisCli = `redis-cli -h ${redis.host} -p ${redis.port}`;
  const env = {
    ...baseEnv,
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: "postgres",
    PGOPTIONS: "-c client_min_messages=warning",
  };
  for (const k of ["PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGSSLMODE"]) delete env[k];
  return {
    root,
    etc: join(root, "etc/piwardrive"),
    data: join(root, "srv/data"),
    logs: join(root, "srv/logs"),
    pg,
    redis,
    env,
    redisCli,
    // Stop waits until the process has exited; start daemonizes with the same config (pid file included).
    // A zombie counts as exited: this VM's init reaps orphans ~1.5 s late, and a zombie holds no files or port.
    redisStop:
      `pid=$(cat ${pidFile}) && kill $pid && ` +
      `while kill -0 $pid 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/$pid/status 2>/dev/null; do sleep 0.05; done`,
    redisStart: `${harness.redisServerBinary()} ${redis.configFile} --daemonize yes`,
    // PING answers LOADING while the dataset is read.
    redisWaitLoaded: `until [ "$(${redisCli} ping 2>/dev/null)" = PONG ]; do sleep 0.05; done`,
  };
}

/**
 * Starts a host's PostgreSQL and Redis (appendonly yes) with the harness, both
 * empty; `root` is where its trees go. Redis is restarted as a daemon: the
 * harness's Redis is a child of this process, and as a daemon it is the same
 * kind of process the service hooks start, so every wipe and restore stops the
 * same thing (the harness kills whatever the pid file names at the end).
 */
export async function startHostServers(harness, root, baseEnv = process.env) {
  const [pg, redis] = await Promise.all([
    harness.startPostgres(),
    harness.startRedis({ appendonly: true, extraConfig: { pidfile: "redis.pid" } }),
  ]);
  harness.watchPidFile(join(redis.dir, "redis.pid"));
  mkdirSync(root, { recursive: true });
  const h = hostLayout(harness, root, pg, redis, baseEnv);
  // Asynchronous so the event loop reaps the harness's child.
  await promisify(execFile)("bash", ["-c", `${h.redisStop} && ${h.redisStart} && ${h.redisWaitLoaded}`], {
    env: h.env,
  });
  return h;
}

export const psql = (h, db, sql) =>
  sh(join(h.pg.binDir, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql], {
    env: h.env,
  });
export const redisCmd = (h, ...args) => bash(`${h.redisCli} ${args.join(" ")}`, h.env).trim();
const redisInfo = (h, field) =>
  redisCmd(h, "info", "persistence")
    .split("\n")
    .find((l) => l.startsWith(`${field}:`))
    ?.split(":")[1]
    .trim();
export const redisVersion = (h) => redisCmd(h, "info", "server").match(/redis_version:(\S+)/)[1];

function generatePostgres(h, scale) {
  psql(h, "postgres", `CREATE DATABASE ${DB}`);
  sh(
    join(h.pg.binDir, "psql"),
    ["-X", "-q", "-d", DB, "-v", `scale=${scale}`, "-f", join(SHARED_BENCH, "gen-pg.sql")],
    { stdio: ["ignore", "ignore", "inherit"], env: h.env },
  );
}

/** Fills Redis, then rewrites the AOF (a compact RDB-preamble base) and saves the RDB. */
function generateRedis(h, scale) {
  bash(`node '${join(SHARED_BENCH, "gen-redis.mjs")}' ${scale} | ${h.redisCli} --pipe > /dev/null`, h.env);
  redisCmd(h, "bgrewriteaof");
  waitAofRewriteDone(h);
  const before = redisCmd(h, "lastsave");
  redisCmd(h, "bgsave");
  while (redisCmd(h, "lastsave") === before) bash("sleep 0.1");
}

function waitAofRewriteDone(h) {
  while (redisInfo(h, "aof_rewrite_in_progress") !== "0" || redisInfo(h, "aof_rewrite_scheduled") !== "0")
    bash("sleep 0.1");
}

async function generateConfigTree(harness, h) {
  mkdirSync(join(h.etc, "tls"), { recursive: true });
  writeFileSync(join(h.etc, "config.yaml"), `scan_interval: 30\nupload: true\ndatabase: ${DB}\n`);
  writeFileSync(join(h.etc, "logging.yaml"), "level: info\nrotate: daily\n");
  writeFileSync(join(h.etc, ".env"), "PIWARDRIVE_SECRET=bench-only\n");
  chmodSync(join(h.etc, ".env"), 0o600);
  const server = await (await harness.createTestCa()).issueServer({ commonName: "pi.local" });
  writeFileSync(join(h.etc, "tls/server.pem"), server.certPem);
  writeFileSync(join(h.etc, "tls/server.key"), server.keyPem, { mode: 0o600 });
}

/** Fills an empty host with the reference dataset at `scale`. */
export async function generateReferenceHost(harness, h, scale) {
  const t0 = Date.now();
  generatePostgres(h, scale);
  generateRedis(h, scale);
  sh("node", [join(SHARED_BENCH, "gen-files.mjs"), h.data, h.logs, scale], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await generateConfigTree(harness, h);
  console.error(`generated the host in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * The host definition's four sources (postgres jobs 2, Redis in files mode
 * with shell stop/start hooks on the pid file, config, files).
 */
export function referenceSources(h) {
  return [
    {
      kind: "postgres",
      name: "db",
      connection: { host: h.pg.host, port: h.pg.port, binDir: h.pg.binDir },
      databases: [DB],
    },
    {
      kind: "redis",
      name: "cache",
      connection: { host: h.redis.host, port: h.redis.port },
      dataDir: h.redis.dir,
      service: { type: "commands", stop: h.redisStop, start: h.redisStart },
    },
    { kind: "config", name: "config", paths: [h.etc] },
    { kind: "files", name: "data", paths: [h.data, h.logs] },
  ];
}

/** What every restore must bring back. */
export function hostState(h) {
  const rows = Object.fromEntries(
    TABLES.map((t) => [t, Number(psql(h, DB, `SELECT count(*) FROM ${t}`).trim())]),
  );
  // Regular files only: directory sizes depend on the file system, not on the restore.
  const [files, bytes] = bash(
    `find '${h.etc}' '${h.data}' '${h.logs}' -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n, s}'`,
  )
    .trim()
    .split(" ")
    .map(Number);
  return {
    rows,
    keys: Number(redisCmd(h, "dbsize")),
    appendonly: redisCmd(h, "config", "get", "appendonly").split("\n")[1],
    files,
    bytes,
  };
}

export function assertRestored(h, want, who) {
  const got = hostState(h);
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(
      `${who} restore is incomplete:\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`,
    );
}

/** The disaster: database dropped, Redis running but empty with no files, trees deleted. */
export function wipeHost(h) {
  psql(h, "postgres", `DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  bash(`${h.redisStop}; rm -rf '${h.redis.dir}/dump.rdb' '${h.redis.dir}/appendonlydir'`);
  bash(`${h.redisStart} && ${h.redisWaitLoaded}`);
  if (redisCmd(h, "dbsize") !== "0") throw new Error("Redis is not empty after the wipe");
  rmSync(join(h.root, "etc"), { recursive: true, force: true });
  rmSync(join(h.root, "srv"), { recursive: true, force: true });
  sh("sync", []);
}

/** The raw tools' backup of the host, into `dir`: pg_dump -Fc, the RDB of the last BGSAVE, tar of the trees. */
export function prepareRaw(h, dir) {
  mkdirSync(dir, { recursive: true });
  const dump = join(dir, `${DB}.dump`);
  sh(join(h.pg.binDir, "pg_dump"), ["-Fc", "-d", DB, "-f", dump], { env: h.env });
  const rdb = join(dir, "dump.rdb");
  bash(`cp '${join(h.redis.dir, "dump.rdb")}' '${rdb}'`);
  const tar = join(dir, "trees.tar");
  sh("tar", ["-cf", tar, "-C", h.root, "etc", "srv"]);
  return { dump, rdb, tar };
}

/**
 * The raw tools' restore onto a wiped host, each step under GNU time (its
 * report in `timeFile`): createdb + pg_restore -j 2; stop Redis, copy the
 * RDB, start it with --appendonly no, wait for the load, CONFIG SET
 * appendonly yes and wait for the AOF rewrite (Redis's documented way to turn
 * AOF on without losing the RDB's data: started with appendonly yes it would
 * load an empty AOF and ignore the RDB); tar -xf of config + data + logs.
 */
export function restoreRaw(h, raw, timeFile) {
  const timed = (cmd, args) => timedRun(cmd, args, { env: h.env, timeFile });
  const timedBash = (script) => timed("bash", ["-o", "pipefail", "-c", script]);
  const pg = timedBash(
    `'${join(h.pg.binDir, "createdb")}' ${DB} && '${join(h.pg.binDir, "pg_restore")}' -j 2 -d ${DB} '${raw.dump}'`,
  );
  const redis = timedBash(
    [
      h.redisStop,
      `cp '${raw.rdb}' '${join(h.redis.dir, "dump.rdb")}'`,
      `${h.redisStart} --appendonly no`,
      h.redisWaitLoaded,
      `${h.redisCli} config set appendonly yes > /dev/null`,
      `until ${h.redisCli} info persistence | tr -d '\\r' | grep -q '^aof_rewrite_in_progress:0' &&
         ${h.redisCli} info persistence | tr -d '\\r' | grep -q '^aof_rewrite_scheduled:0'; do sleep 0.05; done`,
    ].join(" && "),
  );
  const tar = timed("tar", ["-xf", raw.tar, "-C", h.root]);
  return {
    steps: { postgres: pg.secs, redis: redis.secs, files: tar.secs },
    secs: pg.secs + redis.secs + tar.secs,
    cpuSecs: pg.cpuSecs + redis.cpuSecs + tar.cpuSecs,
    rssMiB: Math.max(pg.rssMiB, redis.rssMiB, tar.rssMiB),
  };
}

/** The dataset's sizes, for the report: database, Redis, trees, and the raw tools' files. */
export function describeReference(h, state, raw) {
  const mib = (b) => `${(b / MiB).toFixed(1)} MiB`;
  const dbBytes = Number(psql(h, DB, `SELECT pg_database_size('${DB}')`));
  const aofBytes = duBytes(join(h.redis.dir, "appendonlydir"));
  return (
    `database ${mib(dbBytes)} (${Object.entries(state.rows)
      .map(([t, n]) => `${t} ${n}`)
      .join(", ")} rows; pg_dump -Fc ${mib(statSync(raw.dump).size)}), ` +
    `Redis ${state.keys} keys (RDB ${mib(statSync(raw.rdb).size)}, appendonlydir ${mib(aofBytes)}), ` +
    `${state.files} files ${mib(state.bytes)} (tar ${mib(statSync(raw.tar).size)})`
  );
}
