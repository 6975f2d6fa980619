// PostgreSQL source benchmark (issue 4): PWDR's backupPostgres/restorePostgres
// against the runbook's `pg_dump | gzip` and against `pg_dump -Fc`, on the same
// database in the same run. Per run (the order of the tools rotated per run so
// no tool always reads a warm cache):
//   1. first backup: pg_dump | gzip (time, size), pg_dump -Fc (time, size),
//      PWDR into a fresh repository (time, added bytes, repository size);
//   2. change ~1 % of the rows (MUTATION below), then day 2: the same again,
//      PWDR into the same repository (added bytes, repository growth);
//   3. restore of the day-2 state into a new database: gunzip | psql,
//      pg_restore -j 2 of the -Fc dump, PWDR restorePostgres (jobs 2, default).
// Wall time, CPU time and peak RSS per step come from GNU time (for a shell
// pipeline the CPU time is that of all its processes, the peak RSS that of its
// largest). CPU time excludes the PostgreSQL server's own work; unlike wall
// time it hardly moves when other jobs load the machine. PWDR runs as a child
// process (pg-bench-runner.mjs) on the built libraries; its pg_dump/pg_restore
// children are inside that measurement.
//
// usage: node tools/bench/pg-bench.mjs [--scale 0.05] [--runs 3] [--dir /var/tmp/pwdr-pg-bench]
//          [--chunks default,128] [--change clustered|scattered] [--json results.json]
//   --chunks: PWDR repository variants: "default" (1 MiB average chunks) or an average chunk size in KiB
//             (min = avg/4, max = avg*4).
//   --change: clustered = updated rows are contiguous id ranges (a day's re-scan of recent sessions);
//             scattered = every 200th row (worst case for chunk dedup).
// Starts a throwaway PostgreSQL with @pwdr/test-harness (initdb as `postgres` in a temp dir, loopback
// port) and removes it and --dir at the end, also on error or Ctrl-C.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureGnuTime, median, timedRun } from "./bench-util.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const SHARED_BENCH = resolve(ROOT, "../shared/bench");
const RUNNER = join(import.meta.dirname, "pg-bench-runner.mjs");
const { values: opt } = parseArgs({
  options: {
    scale: { type: "string", default: "0.05" },
    runs: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp/pwdr-pg-bench" },
    chunks: { type: "string", default: "default,128" },
    change: { type: "string", default: "clustered" },
    json: { type: "string" },
  },
});
if (!["clustered", "scattered"].includes(opt.change)) throw new Error("--change: clustered or scattered");
const DB = "piwardrive";
const TEMPLATE = "piwardrive_tpl";
const MiB = 1048576;

// ~1 % of the rows of the database: updates of 0.5 % of the two big detection
// tables (wifi, gps), 0.5-1 % new rows appended to the three big tables, 1 % of
// the sessions closed/annotated. Deterministic: ids and values are functions of id.
function mutation(change) {
  const where = (table) =>
    change === "clustered"
      ? `id > (SELECT max(id) FROM ${table}) * 0.600 AND id <= (SELECT max(id) FROM ${table}) * 0.605`
      : "id % 200 = 7";
  return `
    BEGIN;
    UPDATE wifi_detections SET signal_dbm = signal_dbm - 3, vendor = coalesce(vendor, '?') || ' (rescan)' WHERE ${where("wifi_detections")};
    UPDATE gps_tracks SET hdop = hdop + 0.1, satellites = satellites + 1 WHERE ${where("gps_tracks")};
    UPDATE scan_sessions SET ended_at = ended_at + interval '1 minute', notes = coalesce(notes, '') || ' reviewed' WHERE id % 100 = 3;
    INSERT INTO wifi_detections (scan_session_id, bssid, ssid, channel, frequency, signal_dbm, encryption, lat, lon, detected_at, vendor)
      SELECT scan_session_id, bssid, ssid, channel, frequency, signal_dbm - 1, encryption, lat + 0.0001, lon, detected_at + interval '400 days', vendor
      FROM wifi_detections WHERE id <= (SELECT max(id) FROM wifi_detections) * 0.005 ORDER BY id;
    INSERT INTO bluetooth_detections (scan_session_id, address, name, device_class, rssi, manufacturer, is_ble, lat, lon, detected_at)
      SELECT scan_session_id, address, name, device_class, rssi - 1, manufacturer, is_ble, lat, lon + 0.0001, detected_at + interval '400 days'
      FROM bluetooth_detections WHERE id <= (SELECT max(id) FROM bluetooth_detections) * 0.01 ORDER BY id;
    INSERT INTO gps_tracks (scan_session_id, lat, lon, altitude_m, speed_kmh, heading_deg, hdop, satellites, recorded_at)
      SELECT scan_session_id, lat, lon, altitude_m, speed_kmh, heading_deg, hdop, satellites, recorded_at + interval '400 days'
      FROM gps_tracks WHERE id <= (SELECT max(id) FROM gps_tracks) * 0.005 ORDER BY id;
    COMMIT;`;
}

let server;
let base;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  try {
    await server?.stop();
  } finally {
    if (base) rmSync(base, { recursive: true, force: true });
  }
}
for (const sig of ["SIGINT", "SIGTERM"])
  process.on(sig, () => {
    console.error(`\n${sig}: stopping PostgreSQL and removing ${base}`);
    cleanup().finally(() => process.exit(130));
  });

let env = { ...process.env, PWDR_PASSWORD: "bench-password" };
const sh = (cmd, args, options = {}) =>
  (
    execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], env, maxBuffer: 1 << 28, ...options }) ??
    ""
  ).toString();

const timed = (cmd, args) => timedRun(cmd, args, { env, timeFile: join(base, "time.out") });
const timedBash = (script) => timed("bash", ["-o", "pipefail", "-c", script]);
const duBytes = (path) => Number(sh("du", ["-sb", path]).split("\t")[0]);
const psql = (db, sql) =>
  sh(join(server.binDir, "psql"), ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql]);

const variants = opt.chunks.split(",").map((c) => ({
  name: c === "default" ? "pwdr (1 MiB chunks)" : `pwdr (${c} KiB chunks)`,
  key: `pwdr-${c}`,
  avgKiB: c === "default" ? undefined : c,
}));

function makeTools(bin) {
  const pgDump = join(bin, "pg_dump");
  const tools = {
    gzip: {
      name: "pg_dump \\| gzip",
      backup: (run, day) => {
        const f = join(base, `dump-${run}-${day}.sql.gz`);
        const r = timedBash(`'${pgDump}' -d ${DB} | gzip > '${f}'`);
        return { ...r, bytes: statSync(f).size };
      },
      restore: (run, target) => {
        psql("postgres", `CREATE DATABASE ${target}`);
        return timedBash(
          `gunzip -c '${join(base, `dump-${run}-2.sql.gz`)}' | '${join(bin, "psql")}' -X -q -v ON_ERROR_STOP=1 -d ${target} > /dev/null`,
        );
      },
    },
    fc: {
      name: "pg_dump -Fc",
      backup: (run, day) => {
        const f = join(base, `dump-${run}-${day}.dump`);
        const r = timed(pgDump, ["-Fc", "-d", DB, "-f", f]);
        return { ...r, bytes: statSync(f).size };
      },
      restore: (run, target) => {
        psql("postgres", `CREATE DATABASE ${target}`);
        return timed(join(bin, "pg_restore"), ["-j", "2", "-d", target, join(base, `dump-${run}-2.dump`)]);
      },
    },
  };
  for (const v of variants) {
    const repo = (run) => join(base, `repo-${v.key}-${run}`);
    tools[v.key] = {
      name: v.name,
      backup: (run, day) => {
        if (day === 1) {
          rmSync(repo(run), { recursive: true, force: true });
          sh("node", [RUNNER, "init", repo(run), ...(v.avgKiB ? [v.avgKiB] : [])]);
        }
        const before = duBytes(repo(run));
        const r = timed("node", [RUNNER, "backup", repo(run), server.host, String(server.port), bin, DB]);
        const out = JSON.parse(r.stdout.trim().split("\n").at(-1));
        const after = duBytes(repo(run));
        return { ...r, bytes: out.addedBytes, repoGrowth: after - before, repoBytes: after };
      },
      restore: (run, target) =>
        timed("node", [RUNNER, "restore", repo(run), server.host, String(server.port), bin, DB, target]),
    };
  }
  return tools;
}

function oneRun(tools, names, run) {
  psql("postgres", `DROP DATABASE IF EXISTS ${DB}`);
  psql("postgres", `CREATE DATABASE ${DB} TEMPLATE ${TEMPLATE}`);
  const order = names.map((_, i) => names[(i + run) % names.length]);
  const result = Object.fromEntries(names.map((n) => [n, {}]));
  const log = (n, key, r, extra = "") =>
    console.error(
      `run ${run + 1} ${n.padEnd(10)} ${key.padEnd(8)} ${r.secs.toFixed(2)} s  ${r.rssMiB} MiB RSS${extra}`,
    );
  for (const day of [1, 2]) {
    if (day === 2) {
      const t = Date.now();
      psql(DB, mutation(opt.change));
      console.error(`run ${run + 1} mutation (${opt.change}) ${((Date.now() - t) / 1000).toFixed(1)} s`);
    }
    for (const n of order) {
      sh("sync", []);
      const r = tools[n].backup(run, day);
      const k = `day${day}`;
      Object.assign(result[n], {
        [k]: r.secs,
        [`${k}Cpu`]: r.cpuSecs,
        [`${k}Rss`]: r.rssMiB,
        [`${k}Bytes`]: r.bytes,
        ...(r.repoGrowth === undefined ? {} : { [`${k}Growth`]: r.repoGrowth, [`${k}Repo`]: r.repoBytes }),
      });
      log(
        n,
        k,
        r,
        `  ${(r.bytes / MiB).toFixed(2)} MiB${r.repoGrowth === undefined ? "" : ` (repo +${(r.repoGrowth / MiB).toFixed(2)} MiB)`}`,
      );
    }
  }
  for (const n of order) {
    sh("sync", []);
    const target = `restore_${n.replace(/\W/g, "_")}`;
    psql("postgres", `DROP DATABASE IF EXISTS ${target}`);
    const r = tools[n].restore(run, target);
    result[n].restore = r.secs;
    result[n].restoreRss = r.rssMiB;
    log(n, "restore", r);
    const rows = psql(target, "SELECT count(*) FROM wifi_detections").trim();
    const want = psql(DB, "SELECT count(*) FROM wifi_detections").trim();
    if (rows !== want) throw new Error(`${n} restore: wifi_detections has ${rows} rows, want ${want}`);
    psql("postgres", `DROP DATABASE ${target}`);
  }
  // The runs' dumps and repositories are not needed any more.
  for (const f of sh("ls", [base]).split("\n"))
    if (f.startsWith(`dump-${run}-`) || f.endsWith(`-${run}`))
      rmSync(join(base, f), { recursive: true, force: true });
  return result;
}

function report(runs, tools, names, info) {
  const med = (n, k) => median(runs.map((r) => r[n][k]));
  // Ratios within each run, then the median over runs (noise from other load cancels within a run).
  const ratio = (f) => median(runs.map(f));
  const mib = (b) => (b / MiB).toFixed(2);
  const L = [];
  L.push(
    `database ${info.dbMiB} MiB (pg_database_size, scale ${opt.scale}, generated in ${info.genSecs} s), ` +
      `PostgreSQL ${info.pgVersion}, ${runs.length} runs, medians; change = ${opt.change}; ` +
      `speed-up = (pg_dump | gzip time) / (tool time), same run.`,
    "",
    "| tool | 1st backup s | speed-up vs gzip | 1st backup CPU s | 1st size MiB | day-2 backup s | day-2 stored MiB | day-2 % of full gzip dump | restore s | restore vs gunzip\\|psql | peak RSS backup / restore MiB |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const n of names) {
    const t = tools[n];
    const pwdr = n.startsWith("pwdr");
    const day2Stored = (r) => (pwdr ? r[n].day2Growth : r[n].day2Bytes);
    const first = pwdr
      ? `${mib(med(n, "day1Bytes"))} added, repo ${mib(med(n, "day1Repo"))}`
      : mib(med(n, "day1Bytes"));
    const second = pwdr
      ? `${mib(med(n, "day2Bytes"))} added (repo +${mib(med(n, "day2Growth"))})`
      : `${mib(med(n, "day2Bytes"))} (full)`;
    const pct = ratio((r) => (100 * day2Stored(r)) / r.gzip.day2Bytes);
    const speed = ratio((r) => r.gzip.day1 / r[n].day1);
    const speed2 = ratio((r) => r.gzip.day2 / r[n].day2);
    const rest = ratio((r) => r.gzip.restore / r[n].restore);
    L.push(
      `| ${t.name} | ${med(n, "day1").toFixed(2)} | ${speed.toFixed(2)}× (day 2: ${speed2.toFixed(2)}×) | ` +
        `${med(n, "day1Cpu").toFixed(2)} | ${first} | ` +
        `${med(n, "day2").toFixed(2)} | ${second} | ${pct.toFixed(1)} % | ${med(n, "restore").toFixed(2)} | ${rest.toFixed(2)}× | ` +
        `${Math.max(med(n, "day1Rss"), med(n, "day2Rss"))} / ${med(n, "restoreRss")} |`,
    );
  }
  return L.join("\n");
}

async function main() {
  ensureGnuTime(env);
  base = resolve(opt.dir);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  console.error("building @pwdr/sources and @pwdr/test-harness …");
  sh(
    "npx",
    ["nx", "run-many", "-t", "build", "-p", "@pwdr/sources", "@pwdr/test-harness", "--outputStyle=static"],
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const { startPostgres } = await import(join(ROOT, "libs/test-harness/dist/index.js"));
  server = await startPostgres();
  env = {
    ...env,
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: "postgres",
    PGOPTIONS: "-c client_min_messages=warning",
  };
  for (const k of ["PGPASSWORD", "PGDATABASE", "PGSERVICE", "PGSSLMODE"]) delete env[k];
  console.error(`PostgreSQL ${server.version} on ${server.host}:${server.port} (${server.dir})`);
  const t0 = Date.now();
  psql("postgres", `CREATE DATABASE ${DB}`);
  sh(
    join(server.binDir, "psql"),
    ["-X", "-q", "-d", DB, "-v", `scale=${opt.scale}`, "-f", join(SHARED_BENCH, "gen-pg.sql")],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const genSecs = ((Date.now() - t0) / 1000).toFixed(1);
  const dbMiB = Math.round(Number(psql(DB, `SELECT pg_database_size('${DB}')`)) / MiB);
  psql("postgres", `CREATE DATABASE ${TEMPLATE} TEMPLATE ${DB}`);
  console.error(`generated ${DB}: ${dbMiB} MiB in ${genSecs} s`);
  const tools = makeTools(server.binDir);
  const names = ["gzip", "fc", ...variants.map((v) => v.key)];
  const runs = [];
  for (let i = 0; i < Number(opt.runs); i++) runs.push(oneRun(tools, names, i));
  const table = report(runs, tools, names, { dbMiB, genSecs, pgVersion: server.version });
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ options: opt, runs }, null, 2));
  console.log(table);
}

try {
  await main();
} finally {
  await cleanup();
}
