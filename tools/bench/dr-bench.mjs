// Disaster recovery benchmark (issue 7): the RTO of a central restore of the
// reference PiWardrive host onto a replacement, through the controller's
// REST API with real processes on 127.0.0.1, beside the sum of the raw
// tools' restore times of the same data onto the same replacement, same run.
//
// Once: a source host with the reference dataset at --scale (reference-host.mjs,
// as host-bench.mjs builds it: PostgreSQL `piwardrive`, Redis with appendonly
// yes, config tree with a certificate, data/logs trees); the raw tools'
// backup of it (pg_dump -Fc, the RDB, tar of the trees); a controller
// (`apps/controller/dist/main.js serve`, SQLite catalog, its own storage);
// the source's agent enrolled (`pwdr-agent enroll` with a token from the
// API) and started through the launcher with the host definition and
// `repository: { controller: true }`; one backup through the API (POST
// /api/v1/jobs, kind backup). Then the source is destroyed (agent stopped,
// servers stopped, trees deleted) and a replacement machine starts: its own
// empty PostgreSQL and Redis (appendonly yes) and empty trees.
//
// Per run (--runs; the order DR/raw rotated per run), the replacement is
// wiped before each side (database dropped, Redis emptied with no files,
// trees deleted, app stopped), then:
//   DR:  a new agent on the replacement is enrolled as a new host and started
//        (not timed); POST /api/v1/dr/restores {dryRun: false, failedHostId,
//        replacementHostId}, polled until the run has finished; its rtoMs
//        (the controller's: run start to verify-health done) and each step's
//        duration from GET /api/v1/dr/runs/:id. A new agent each run because
//        the run ends with take-over: the replacement becomes the failed host.
//   raw: createdb + pg_restore -j 2; RDB copy, start with appendonly no,
//        CONFIG SET appendonly yes, wait for the rewrite; tar -xf
//        (reference-host.mjs restoreRaw, as host-bench).
// After each side the replacement is checked (row counts, DBSIZE, appendonly,
// file count and bytes), so a broken restore cannot look fast.
//
// Services and health: the default DR plan always has stop-services,
// start-services and verify-health steps, and the agent fails a service job
// when its config has no `services`, and a health job when it has no
// `health` and the job gives no URL (apps/agent/src/link/job-executor.ts,
// health-job.ts): a definition without them cannot finish a DR run. So the
// bench hosts have what a PiWardrive host has: an app service (plain shell
// commands starting and stopping libs/host's test health app by pid file) and a
// health check on its /api/v1/system/health, which answers 200 only when
// PostgreSQL holds the expected scan sessions and Redis the expected number
// of keys. The RTO thus ends when the restored data is served, and includes
// starting a (tiny) app, which the raw sum does not.
//
// Peak RSS: VmHWM of the controller (reset through clear_refs before each DR
// run) and of each run's replacement agent, read when its run has finished.
//
// CPU seconds of the controller and of the replacement agent (its waited-for
// children, pg_restore, included) are sampled at every poll of the run and
// charged to the step running at the start of each interval.
//
// usage: node tools/bench/dr-bench.mjs [--scale 0.1] [--runs 3] [--dir /var/tmp/pwdr-dr-bench] [--json out.json]
//                                      [--profile DIR: V8 CPU profiles of the controller and agents]
// Everything it starts (servers, controller, agents, app) and --dir are removed at the end, also on error or Ctrl-C.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureGnuTime, median } from "./bench-util.mjs";
import { eventually, startAgent, startController } from "./fleet-processes.mjs";
import {
  assertRestored,
  bash,
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
  startHostServers,
  wipeHost,
} from "./reference-host.mjs";

const HEALTH_APP = join(import.meta.dirname, "../../libs/host/src/test-support/health-app.mjs");
const { values: opt } = parseArgs({
  options: {
    scale: { type: "string", default: "0.1" },
    runs: { type: "string", default: "3" },
    dir: { type: "string", default: "/var/tmp/pwdr-dr-bench" },
    json: { type: "string" },
    profile: { type: "string" },
  },
});
/** With --profile DIR the controller and agent daemons write V8 CPU profiles there when they stop. */
const daemonEnv = opt.profile
  ? {
      ...process.env,
      NODE_OPTIONS: `--import=${join(import.meta.dirname, "cpu-profile-preload.mjs")}`,
      PWDR_CPU_PROFILE_DIR: resolve(opt.profile),
    }
  : process.env;
const FINAL_JOB_STATES = ["succeeded", "partial", "failed", "cancelled", "missed"];
/** The steps of the default plan up to healthy: the RTO. take-over comes after it. */
const RTO_STEPS = [
  "assess",
  "stop-services",
  "restore-database",
  "restore-redis",
  "restore-config",
  "restore-data",
  "start-services",
  "verify-health",
];

let harness;
let base;
const daemons = new Set();
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  try {
    await Promise.all([...daemons].map((d) => d.stop("SIGTERM", 10_000)));
    await harness?.stopAll();
  } finally {
    if (base) rmSync(base, { recursive: true, force: true });
  }
}
cleanupOnSignals(cleanup, () => `stopping the controller, agents and servers and removing ${base}`);

const track = (daemon) => {
  daemons.add(daemon);
  return daemon;
};

async function stopDaemon(daemon) {
  await daemon.stop();
  daemons.delete(daemon);
}

/** Kills what a pid file names and waits until it is gone (a zombie counts as gone, as for Redis). */
const stopByPidFile = (pidFile) =>
  `pid=$(cat ${pidFile} 2>/dev/null) && kill $pid 2>/dev/null && ` +
  `while kill -0 $pid 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/$pid/status 2>/dev/null; do sleep 0.05; done; ` +
  `rm -f ${pidFile}`;

/**
 * A bench host's definition: the reference sources, the app as a service
 * (shell commands on a pid file) and its health check.
 */
function benchDefinition(h, name, want) {
  const pidFile = join(h.root, "app.pid");
  const app = [
    HEALTH_APP,
    h.appPort,
    h.pg.port,
    DB,
    h.redis.port,
    "scan_sessions",
    want.rows.scan_sessions,
    want.keys,
  ];
  return {
    host: name,
    sources: referenceSources(h),
    services: {
      type: "commands",
      stop: stopByPidFile(pidFile),
      start: `${process.execPath} ${app.join(" ")} >${join(h.root, "app.log")} 2>&1 & echo $! >${pidFile}`,
    },
    health: {
      url: `http://127.0.0.1:${h.appPort}/api/v1/system/health`,
      attempts: 240,
      intervalMs: 250,
      timeoutMs: 2_000,
    },
  };
}

async function startHost(name) {
  const h = await startHostServers(harness, join(base, name));
  h.appPort = await harness.freePort();
  harness.watchPidFile(join(h.root, "app.pid"));
  return h;
}

async function runJob(api, hostId, kind, spec) {
  const job = await api.post("/api/v1/jobs", { hostId, kind, spec });
  const done = await eventually(
    `${kind} job ${job.id}`,
    async () => {
      const row = await api.get(`/api/v1/jobs/${job.id}`);
      return FINAL_JOB_STATES.includes(row.state) ? row : undefined;
    },
    30 * 60_000,
    250,
  );
  if (done.state !== "succeeded") throw new Error(`${kind} job ${done.state}: ${done.reason}`);
  return done;
}

/** The source host: generated, backed up once through the controller, its raw backup taken, then destroyed. */
async function prepareSource(controller) {
  const source = await startHost("source");
  console.error(
    `source: PostgreSQL ${source.pg.version} on ${source.pg.port}, Redis ${redisVersion(source)} on ${source.redis.port}`,
  );
  await generateReferenceHost(harness, source, opt.scale);
  const want = hostState(source);
  const raw = prepareRaw(source, join(base, "raw"));
  const sizes = describeReference(source, want, raw);
  console.error(sizes);
  const agent = await startAgent(controller, {
    name: "bench-pi",
    agentDir: join(base, "agent-source"),
    definition: benchDefinition(source, "bench-pi", want),
    env: process.env,
    daemonEnv,
  });
  track(agent.daemon);
  const t0 = performance.now();
  await runJob(controller.api, agent.hostId, "backup", {});
  const backup = {
    secs: (performance.now() - t0) / 1000,
    agentRssMiB: agent.daemon.peakRssMiB(),
    controllerRssMiB: controller.daemon.peakRssMiB(),
    storedMiB: duBytes(controller.dataDir) / MiB,
  };
  console.error(
    `backup through the controller: ${backup.secs.toFixed(2)} s, agent ${backup.agentRssMiB} MiB, ` +
      `controller ${backup.controllerRssMiB} MiB peak RSS; controller data dir ${backup.storedMiB.toFixed(1)} MiB`,
  );
  // The disaster: the agent is gone, the servers stopped, the trees deleted.
  await stopDaemon(agent.daemon);
  bash(source.redisStop);
  await source.pg.stop();
  rmSync(source.root, { recursive: true, force: true });
  return { failedHostId: agent.hostId, want, raw, sizes, backup, pgVersion: source.pg.version };
}

/** The replacement machine before a side: its data wiped and the app stopped. */
function wipeReplacement(h) {
  bash(stopByPidFile(join(h.root, "app.pid")));
  wipeHost(h);
}

async function restoreDr(controller, h, src, run) {
  const name = `bench-replacement-${run + 1}`;
  const agentDir = join(base, `agent-${name}`);
  const agent = await startAgent(controller, {
    name,
    agentDir,
    definition: benchDefinition(h, name, src.want),
    env: process.env,
    daemonEnv,
  });
  track(agent.daemon);
  const request = { failedHostId: src.failedHostId, replacementHostId: agent.hostId };
  // The replacement reports its servers' versions and free disk after it connected: assess until they are in.
  await eventually("the assessment to pass", async () => {
    const plan = await controller.api.post("/api/v1/dr/restores", request);
    return plan.assessment.ok ? plan : undefined;
  });
  controller.daemon.resetPeak();
  const t0 = performance.now();
  const started = await controller.api.post("/api/v1/dr/restores", { ...request, dryRun: false });
  const { finished, cpu } = await followRun(controller, agent.daemon, started.id);
  const wallSecs = (performance.now() - t0) / 1000;
  if (finished.state !== "succeeded" || finished.reason)
    throw new Error(
      `DR run ${finished.state} (${finished.reason}): ${finished.steps.map((s) => `${s.name} ${s.state} ${s.error ?? ""}`).join("; ")}\n${agent.daemon.tail()}`,
    );
  const result = {
    rtoSecs: finished.rtoMs / 1000,
    wallSecs,
    steps: stepTimes(finished.steps),
    cpu,
    agentRssMiB: agent.daemon.peakRssMiB(),
    controllerRssMiB: controller.daemon.peakRssMiB(),
    retries: finished.steps.filter((s) => s.attempt > 1).map((s) => `${s.name} (attempt ${s.attempt})`),
  };
  await stopDaemon(agent.daemon);
  rmSync(agentDir, { recursive: true, force: true });
  return result;
}

/**
 * Polls the run until it has finished; meanwhile charges the CPU seconds the
 * controller and the agent spent in each interval to the step that was
 * running at its start ("between" when none was).
 */
async function followRun(controller, agentDaemon, runId) {
  const cpu = {};
  const sample = () => ({ controller: controller.daemon.cpuSecs(), agent: agentDaemon.cpuSecs() });
  let before = sample();
  let running = "between";
  const deadline = Date.now() + 60 * 60_000;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    const run = await controller.api.get(`/api/v1/dr/runs/${runId}`);
    const now = sample();
    cpu[running] ??= { controller: 0, agent: 0 };
    cpu[running].controller += now.controller - before.controller;
    cpu[running].agent += now.agent - before.agent;
    before = now;
    if (!["running", "cancelling"].includes(run.state)) return { finished: run, cpu };
    if (Date.now() > deadline) throw new Error(`DR run ${runId} still ${run.state} after an hour`);
    running = run.steps.find((s) => s.state === "running")?.name ?? "between";
  }
}

/**
 * Seconds per step; for the restore steps also the agent's own restore
 * (restoreHost's durationMs in the job's details) and the rest of the step
 * (dispatch, job start, remote repository open and index load, result);
 * "gaps" are the waits between one step's end and the next one's start.
 */
function stepTimes(steps) {
  const out = {};
  let gaps = 0;
  let previous;
  for (const s of steps) {
    out[s.name] = s.durationMs / 1000;
    const agentMs = s.output?.details?.durationMs;
    if (s.action.startsWith("restore-") && typeof agentMs === "number") {
      out[`${s.name}:agent`] = agentMs / 1000;
      out[`${s.name}:outside`] = (s.durationMs - agentMs) / 1000;
    }
    if (previous && RTO_STEPS.includes(s.name))
      gaps += Date.parse(s.startedAt) - Date.parse(previous.finishedAt);
    previous = s;
  }
  out.gaps = gaps / 1000;
  return out;
}

async function oneRun(controller, h, src, run) {
  const sides = {
    dr: () => restoreDr(controller, h, src, run),
    raw: async () => restoreRaw(h, src.raw, join(base, "time.out")),
  };
  const order = run % 2 === 0 ? ["dr", "raw"] : ["raw", "dr"];
  const result = {};
  for (const side of order) {
    wipeReplacement(h);
    result[side] = await sides[side]();
    assertRestored(h, src.want, side);
  }
  result.ratio = result.dr.rtoSecs / result.raw.secs;
  const { dr, raw } = result;
  console.error(
    `run ${run + 1}: DR RTO ${dr.rtoSecs.toFixed(2)} s (wall ${dr.wallSecs.toFixed(2)} s; ` +
      `${RTO_STEPS.map((s) => `${s} ${dr.steps[s]?.toFixed(2)}`).join(", ")}, gaps ${dr.steps.gaps.toFixed(2)}; ` +
      `agent ${dr.agentRssMiB} MiB, controller ${dr.controllerRssMiB} MiB)` +
      `${dr.retries.length ? `; retried: ${dr.retries.join(", ")}` : ""}\n` +
      `run ${run + 1}: raw ${raw.secs.toFixed(2)} s (postgres ${raw.steps.postgres.toFixed(2)}, redis ${raw.steps.redis.toFixed(2)}, files ${raw.steps.files.toFixed(2)}); ratio RTO / raw = ${result.ratio.toFixed(2)}`,
  );
  return result;
}

function report(runs, src, versions) {
  const med = (f) => median(runs.map(f));
  const sec = (x) => (x === undefined ? "–" : x.toFixed(2));
  const step = (name) => sec(med((r) => r.dr.steps[name]));
  const cpu = (name) =>
    `${sec(med((r) => r.dr.cpu[name]?.controller ?? 0))} / ${sec(med((r) => r.dr.cpu[name]?.agent ?? 0))}`;
  const row = (name, raw = "") => `| ${name} | ${step(name)} | ${cpu(name)} | ${raw} |`;
  const restoreRow = (name, raw) =>
    `| ${name} | ${step(name)} (agent ${step(`${name}:agent`)} + ${step(`${name}:outside`)}) | ${cpu(name)} | ${raw} |`;
  const { backup } = src;
  return [
    `scale ${opt.scale}: ${src.sizes}. PostgreSQL ${src.pgVersion}, Redis ${versions.redis}. ` +
      `Backup through the controller ${backup.secs.toFixed(2)} s (agent ${backup.agentRssMiB} MiB, controller ` +
      `${backup.controllerRssMiB} MiB peak RSS; controller data dir ${backup.storedMiB.toFixed(1)} MiB). ` +
      `${runs.length} runs, medians in seconds; ratio = DR RTO / raw sum, same run. Restore steps: the ` +
      "agent's restoreHost (agent) + the rest of the step (dispatch, job start, repository access and open, result).",
    "",
    "| DR step | DR s | CPU s controller / agent | raw s (tool) |",
    "|---|---|---|---|",
    row("assess"),
    row("stop-services"),
    restoreRow("restore-database", `${sec(med((r) => r.raw.steps.postgres))} (createdb + pg_restore -j 2)`),
    restoreRow(
      "restore-redis",
      `${sec(med((r) => r.raw.steps.redis))} (cp RDB, start --appendonly no, CONFIG SET appendonly yes, rewrite done)`,
    ),
    restoreRow("restore-config", "(in tar)"),
    restoreRow("restore-data", `${sec(med((r) => r.raw.steps.files))} (tar -xf config + data + logs)`),
    row("start-services"),
    row("verify-health"),
    `| waits between steps | ${step("gaps")} | ${cpu("between")} | |`,
    `| **RTO** (run start → healthy) | **${sec(med((r) => r.dr.rtoSecs))}** | | **${sec(med((r) => r.raw.secs))}** (sum) |`,
    row("take-over", "(after the RTO)"),
    `| client wall, POST → run succeeded | ${sec(med((r) => r.dr.wallSecs))} | | |`,
    `| peak RSS MiB | controller ${med((r) => r.dr.controllerRssMiB)}, replacement agent ${med((r) => r.dr.agentRssMiB)} | | ${med((r) => r.raw.rssMiB)} (largest single process) |`,
    "",
    `per-run ratios RTO / raw sum: ${runs.map((r) => r.ratio.toFixed(2)).join(", ")}; median ${median(runs.map((r) => r.ratio)).toFixed(2)}.`,
    `per-run RTO s: ${runs.map((r) => r.dr.rtoSecs.toFixed(2)).join(", ")}; raw sum s: ${runs.map((r) => r.raw.secs.toFixed(2)).join(", ")}.`,
  ].join("\n");
}

async function main() {
  ensureGnuTime(process.env);
  base = resolve(opt.dir);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  console.error("building the controller, the agent and their libraries …");
  buildProjects(["controller", "agent", "host", "sources", "repo", "test-harness"]);
  harness = await import(join(ROOT, "libs/test-harness/dist/index.js"));
  const ports = {
    session: await harness.freePort(),
    enroll: await harness.freePort(),
    api: await harness.freePort(),
    storage: await harness.freePort(),
  };
  const controller = await startController({
    dataDir: join(base, "controller"),
    ports,
    env: process.env,
    daemonEnv,
  });
  track(controller.daemon);
  const src = await prepareSource(controller);
  const replacement = await startHost("replacement");
  const versions = { redis: redisVersion(replacement) };
  const runs = [];
  for (let i = 0; i < Number(opt.runs); i++) runs.push(await oneRun(controller, replacement, src, i));
  const table = report(runs, src, versions);
  if (opt.json) writeFileSync(opt.json, JSON.stringify({ options: opt, src, runs }, null, 2));
  console.log(table);
}

try {
  await main();
} finally {
  await cleanup();
}
