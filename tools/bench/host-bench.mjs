// Host restore benchmark (issue 4): a full restoreHost of the reference
// dataset against the sum of the raw tools' restores of the same data, same
// run. Target: PWDR ≤ 1.5 × raw sum.
//
// The host: PostgreSQL database `piwardrive` (gen-pg.sql), Redis with
// appendonly yes filled by gen-redis.mjs (then BGREWRITEAOF, as a long-running
// Redis has a compact AOF), a config tree (config.yaml, .env, a certificate
// and key) and the data/logs trees of gen-files.mjs. No services or health
// check in the definition: only the four sources are restored.
//
// Prepared once: a PWDR repository and one recovery point (createRecoveryPoint);
// for the raw side `pg_dump -Fc`, the RDB of a BGSAVE, and a tar of the trees.
// Per run (the order PWDR/raw rotated per run) the host is wiped before each
// side: database dropped, Redis stopped, its RDB/AOF deleted, started empty,
// config and data trees deleted. Then, timed:
//   PWDR: node host-bench-runner.mjs restore (restoreHost of "latest"; Node
//         start-up and index load included);
//   raw:  createdb + pg_restore -j 2; stop Redis, copy the RDB, start it with
//         --appendonly no, wait for the load, CONFIG SET appendonly yes and
//         wait for the AOF rewrite (Redis's documented way to turn AOF on
//         without losing the RDB's data: started with appendonly yes it would
//         load an empty AOF and ignore the RDB); tar -xf of config+data.
// Each restore is verified (row counts, DBSIZE, appendonly, file count and
// bytes), so a broken restore cannot look fast.
// Wall time and peak RSS per step come from GNU time (for PWDR the peak RSS
// is the largest of Node and its pg_restore children).
//
// Backups (issue 4 and issue 5's memory target), same data, same run: the
// agent CLI's `pwdr-agent now backup` (a recovery point of all four sources,
// into a fresh repository, then again with nothing changed) against the
// runbook's `pg_dump | gzip`, `redis-cli save` + copy of dump.rdb and
// `tar czf` of the trees. Peak RSS of the agent: issue 5 wants < 150 MB.
//
// usage: node tools/bench/host-bench.mjs [--scale 0.1] [--runs 3] [--dir /var/tmp/pwdr-host-bench] [--json results.json] [--cpu-prof DIR]
// Starts a throwaway PostgreSQL and Redis with @pwdr/test-harness and removes them and --dir at the end,
// also on error or Ctrl-C.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureGnuTime, median, timedRun } from "./bench-util.mjs";
import {
  assertRestored,
  buildProjects,
  cleanupOnSignals,
  DB,
  describeReference,
  duBytes,
  generateReferenceHost,
  hostState,
  MiB,
  prepareRaw,
  ROOT,
  redisVersion,
  referenceSources,
  restoreRaw,
  sh,
  startHostServers,
  wipeHost,
} from "./reference-host.mjs";

const RUNNER = join(import.meta.dirname, "host-bench-runner.mjs");
/** The installed launcher (memory settings included), as systemd and operators run the agent. */
const AGENT = join(ROOT, "packaging/pwdr-agent");
const AGENT_PASSWORD_ENV = "PWDR_BENCH_REPOSITORY_PASSWORD";
const { values: opt } = parseArgs({
  options: {
    scale: { type: "string", default: "0.1" },
    runs: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp/pwdr-host-bench" },
    json: { type: "string" },
    // Writes a V8 CPU profile of each PWDR restore (main thread and workers) into this directory.
    "cpu-prof": { type: "string" },
  },
});
const TARGET_RATIO = 1.5;

let harness;
let base;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  try {
    await harness?.stopAll();
  } finally {
    if (base) rmSync(base, { recursive: true, force: true });
  }
}
cleanupOnSignals(cleanup, () => `stopping the servers and removing ${base}`);

/** The environment of the runner and the agent: the host's PostgreSQL variables and the repository password. */
let env = { ...process.env, PWDR_PASSWORD: "bench-password" };
const timed = (cmd, args) => timedRun(cmd, args, { env, timeFile: join(base, "time.out") });
const timedBash = (script) => timed("bash", ["-o", "pipefail", "-c", script]);

/** host-bench's files beside the reference host: raw backup, repository, definition. */
function benchPaths(h) {
  return {
    ...h,
    raw: join(base, "raw"),
    repo: join(base, "repo"),
    definitionFile: join(base, "host.json"),
  };
}

function writeDefinition(h) {
  const definition = { host: "bench-pi", sources: referenceSources(h) };
  writeFileSync(h.definitionFile, JSON.stringify(definition, null, 2));
}

const STEP_OF_KIND = {
  "restore-postgres": "postgres",
  "restore-redis": "redis",
  "restore-config": "config",
  "restore-files": "files",
};

function restorePwdr(h) {
  const profile = opt["cpu-prof"] ? ["--cpu-prof", "--cpu-prof-dir", resolve(opt["cpu-prof"])] : [];
  const r = timed("node", [...profile, RUNNER, "restore", h.repo, h.definitionFile]);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1));
  const steps = Object.fromEntries(report.steps.map((s) => [STEP_OF_KIND[s.kind], s.durationMs / 1000]));
  // What restoreHost does not see: Node start-up, imports, opening the repository and loading its index.
  steps.outside = r.secs - report.durationMs / 1000;
  return { steps, phases: report.phases, secs: r.secs, cpuSecs: r.cpuSecs, rssMiB: r.rssMiB };
}

/** The agent's config for the same host, into `repo`; the password comes from the environment. */
function writeAgentConfig(h, repo) {
  const definition = JSON.parse(readFileSync(h.definitionFile, "utf8"));
  const config = {
    ...definition,
    stateDir: join(base, "agent-state"),
    logLevel: "error",
    repository: { path: repo, passwordEnv: AGENT_PASSWORD_ENV },
    schedules: { backup: "0 0 1 1 *" },
  };
  const file = join(base, "agent.json");
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** `pwdr-agent now backup` under GNU time: the daemon's backup path, launcher and Node start-up included. */
function backupPwdr(config) {
  const r = timed(AGENT, ["now", "backup", "-c", config, "--json"]);
  const run = JSON.parse(r.stdout.trim().split("\n").at(-1));
  if (run.status !== "ok") throw new Error(`agent backup ${run.status}: ${run.error}`);
  return { secs: r.secs, rssMiB: r.rssMiB, addedMiB: run.addedBytes / MiB };
}

/** The runbook: pg_dump | gzip, redis-cli save and a copy of dump.rdb, tar czf of the trees. */
function backupRaw(h) {
  const out = join(base, "raw-backup");
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  const pg = timedBash(`'${join(h.pg.binDir, "pg_dump")}' -d ${DB} | gzip > '${join(out, "db.sql.gz")}'`);
  const redis = timedBash(`${h.redisCli} save >/dev/null && cp '${join(h.redis.dir, "dump.rdb")}' '${out}/'`);
  const files = timed("tar", ["-czf", join(out, "trees.tar.gz"), "-C", h.root, "etc", "srv"]);
  const mib = duBytes(out) / MiB;
  rmSync(out, { recursive: true, force: true });
  return {
    steps: { postgres: pg.secs, redis: redis.secs, files: files.secs },
    secs: pg.secs + redis.secs + files.secs,
    rssMiB: Math.max(pg.rssMiB, redis.rssMiB, files.rssMiB),
    mib,
  };
}

/** A first backup into a fresh repository, a second with nothing changed, and the runbook's backup. */
function oneBackupRun(h, run) {
  const repo = join(base, `repo-backup-${run}`);
  env[AGENT_PASSWORD_ENV] = "bench-password";
  sh("node", [RUNNER, "init", repo], { env });
  const config = writeAgentConfig(h, repo);
  const sides = {
    pwdr: () => ({ first: backupPwdr(config), second: backupPwdr(config) }),
    raw: () => backupRaw(h),
  };
  const order = run % 2 === 0 ? ["pwdr", "raw"] : ["raw", "pwdr"];
  const result = {};
  for (const side of order) result[side] = sides[side]();
  result.repoMiB = duBytes(repo) / MiB;
  rmSync(repo, { recursive: true, force: true });
  result.ratio = result.pwdr.first.secs / result.raw.secs;
  console.error(
    `backup run ${run + 1}: PWDR first ${result.pwdr.first.secs.toFixed(2)} s (${result.pwdr.first.rssMiB} MiB RSS), ` +
      `no-change ${result.pwdr.second.secs.toFixed(2)} s; runbook ${result.raw.secs.toFixed(2)} s; ratio ${result.ratio.toFixed(2)}`,
  );
  return result;
}

function backupReport(backups) {
  const med = (f) => median(backups.map(f));
  const sec = (x) => x.toFixed(2);
  return [
    `Backups, ${backups.length} runs, medians (ratio = PWDR first backup / runbook sum, same run):`,
    "",
    "| | PWDR first | PWDR no change | runbook |",
    "|---|---|---|---|",
    `| wall s | ${sec(med((b) => b.pwdr.first.secs))} | ${sec(med((b) => b.pwdr.second.secs))} | ${sec(med((b) => b.raw.secs))} (pg_dump|gzip ${sec(med((b) => b.raw.steps.postgres))}, redis save+cp ${sec(med((b) => b.raw.steps.redis))}, tar czf ${sec(med((b) => b.raw.steps.files))}) |`,
    `| stored MiB | ${med((b) => b.repoMiB).toFixed(1)} (repository) | ${med((b) => b.pwdr.second.addedMiB).toFixed(2)} added | ${med((b) => b.raw.mib).toFixed(1)} |`,
    `| peak RSS MiB | ${med((b) => b.pwdr.first.rssMiB)} | ${med((b) => b.pwdr.second.rssMiB)} | ${med((b) => b.raw.rssMiB)} |`,
    "",
    `per-run ratios: ${backups.map((b) => b.ratio.toFixed(2)).join(", ")}; peak RSS target < 150 MB (143 MiB): ` +
      `${med((b) => b.pwdr.first.rssMiB) < 143 ? "met" : "missed"}.`,
  ].join("\n");
}

function oneRun(h, raw, want, run) {
  const sides = { pwdr: () => restorePwdr(h), raw: () => restoreRaw(h, raw, join(base, "time.out")) };
  const names = Object.keys(sides);
  const order = names.map((_, i) => names[(i + run) % names.length]);
  const result = {};
  for (const n of order) {
    wipeHost(h);
    result[n] = sides[n]();
    assertRestored(h, want, n);
    const steps = Object.entries(result[n].steps)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(", ");
    console.error(
      `run ${run + 1} ${n.padEnd(4)} ${result[n].secs.toFixed(2)} s  ${result[n].cpuSecs.toFixed(2)} CPU s  ${result[n].rssMiB} MiB RSS  (${steps})`,
    );
  }
  result.ratio = result.pwdr.secs / result.raw.secs;
  console.error(`run ${run + 1} ratio PWDR / raw = ${result.ratio.toFixed(2)}`);
  return result;
}

function report(runs, info) {
  const med = (f) => median(runs.map(f));
  const sec = (x) => (x === undefined ? "–" : x.toFixed(2));
  const ratios = runs.map((r) => r.ratio);
  const ratio = median(ratios);
  const L = [];
  L.push(
    `scale ${opt.scale}: ${info.sizes}. PostgreSQL ${info.pgVersion}, Redis ${info.redisVersion}, ` +
      `${runs.length} runs, medians in seconds; ratio = PWDR / raw sum, same run.`,
    "",
    "| step | PWDR s | raw s | raw tool |",
    "|---|---|---|---|",
    `| PostgreSQL | ${sec(med((r) => r.pwdr.steps.postgres))} | ${sec(med((r) => r.raw.steps.postgres))} | createdb + pg_restore -j 2 |`,
    `| Redis | ${sec(med((r) => r.pwdr.steps.redis))} | ${sec(med((r) => r.raw.steps.redis))} | stop, cp RDB, start --appendonly no, CONFIG SET appendonly yes, rewrite done |`,
    `| config tree | ${sec(med((r) => r.pwdr.steps.config))} | (in tar) | |`,
    `| data + logs trees | ${sec(med((r) => r.pwdr.steps.files))} | ${sec(med((r) => r.raw.steps.files))} | tar -xf (config + data + logs) |`,
    `| Node start-up, repository open, index load | ${sec(med((r) => r.pwdr.steps.outside))} | – | |`,
    `| **total** | **${sec(med((r) => r.pwdr.secs))}** | **${sec(med((r) => r.raw.secs))}** | sum |`,
    `| peak RSS MiB | ${med((r) => r.pwdr.rssMiB)} | ${med((r) => r.raw.rssMiB)} | largest single process |`,
    "",
    `per-run ratios: ${ratios.map((x) => x.toFixed(2)).join(", ")}; median ${ratio.toFixed(2)} ` +
      `(target ≤ ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? "met" : "missed"}, ` +
      `${Math.abs(((TARGET_RATIO - ratio) / TARGET_RATIO) * 100).toFixed(1)} % ${ratio <= TARGET_RATIO ? "below" : "above"} it).`,
  );
  L.push("", `PWDR phases (medians, s): ${phaseMedians(runs)}.`);
  return L.join("\n");
}

/** Where restoreHost's time goes inside the steps, from its progress events. */
function phaseMedians(runs) {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.pwdr.phases)))];
  return keys.map((k) => `${k} ${median(runs.map((r) => r.pwdr.phases[k])).toFixed(2)}`).join(", ");
}

function describeSizes(h, state, raw, backupSecs) {
  return (
    `${describeReference(h, state, raw)}; ` +
    `repository ${(duBytes(h.repo) / MiB).toFixed(1)} MiB after one createRecoveryPoint (${backupSecs.toFixed(1)} s)`
  );
}

async function main() {
  ensureGnuTime(env);
  base = resolve(opt.dir);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  console.error("building @pwdr/host, sources, repo, test-harness and agent …");
  buildProjects(["host", "sources", "repo", "test-harness", "agent"]);
  harness = await import(join(ROOT, "libs/test-harness/dist/index.js"));
  const h = benchPaths(await startHostServers(harness, join(base, "host")));
  env = { ...h.env, PWDR_PASSWORD: "bench-password" };
  const redis = redisVersion(h);
  console.error(`PostgreSQL ${h.pg.version} on ${h.pg.port}, Redis ${redis} on ${h.redis.port}`);
  await generateReferenceHost(harness, h, opt.scale);
  writeDefinition(h);
  const want = hostState(h);
  const raw = prepareRaw(h, h.raw);
  sh("node", [RUNNER, "init", h.repo], { env });
  const backup = timed("node", [RUNNER, "backup", h.repo, h.definitionFile]);
  const sizes = describeSizes(h, want, raw, backup.secs);
  console.error(sizes);
  const backups = [];
  for (let i = 0; i < Number(opt.runs); i++) backups.push(oneBackupRun(h, i));
  const runs = [];
  for (let i = 0; i < Number(opt.runs); i++) runs.push(oneRun(h, raw, want, i));
  const table = report(runs, { sizes, pgVersion: h.pg.version, redisVersion: redis });
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ options: opt, sizes, backups, runs }, null, 2));
  console.log(`${backupReport(backups)}\n\n${table}`);
}

try {
  await main();
} finally {
  await cleanup();
}
