// Controller session scale (issue 6): one controller process (the built
// `pwdr-controller serve`, SQLite catalog in a temp dir) holding N simulated
// agent sessions from separate load-generator processes (session-loadgen.mjs),
// each host with its own client certificate signed by the controller's CA and
// its own mutual-TLS connection, a Heartbeat every 10 s at a random phase.
// Per level it measures: time to establish all sessions, the controller's RSS
// and CPU, heartbeat handling (how far the catalog's lastSeenAt trails the
// heartbeats the agents sent) and job dispatch latency (pending verify jobs
// inserted into the catalog at a steady rate for random hosts, until the
// simulated agent receives ControllerMessage.job).
// usage: npx tsc -b tsconfig.json && node tools/bench/session-bench.mjs
//          [--sessions 1000,5000,10000] [--duration 60] [--runs 1] [--job-rate 10] [--loadgens 1] [--json]
//          [--concurrency 64] [--controller-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof"]
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { openCatalog } from "@pwdr/catalog";
import { createKeyAndCsr, signCsr } from "@pwdr/pki";
import { certificateFingerprint } from "@pwdr/protocol";
import { median } from "./bench-util.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CONTROLLER_MAIN = join(ROOT, "apps/controller/dist/main.js");
const LOADGEN = join(ROOT, "tools/bench/session-loadgen.mjs");
const FIXTURE = join(tmpdir(), "pwdr-session-bench-fixture");
const HEARTBEAT_MS = 10_000;
const SAMPLE_MS = 5_000;
const JOB_GRACE_MS = 10_000;
// The file-descriptor limit is per process and each session holds a socket:
// raise the soft limit to the hard one before exec (documented in the README).
const RAISE_NOFILE = 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"';

const { values: args } = parseArgs({
  options: {
    sessions: { type: "string", default: "1000,5000,10000" },
    duration: { type: "string", default: "60" },
    runs: { type: "string", default: "1" },
    "job-rate": { type: "string", default: "10" },
    loadgens: { type: "string", default: "1" },
    concurrency: { type: "string", default: "64" },
    json: { type: "boolean", default: false },
    // Extra node flags for the controller, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    "controller-node-args": { type: "string", default: "" },
  },
});
const levels = args.sessions.split(",").map(Number);
const durationMs = Number(args.duration) * 1000;
const runs = Number(args.runs);
const jobRate = Number(args["job-rate"]);
const loadgenCount = Number(args.loadgens);
const say = (line) => process.stderr.write(`${line}\n`);

if (!existsSync(CONTROLLER_MAIN)) throw new Error("build first: npx tsc -b tsconfig.json");
const { loadOrCreateControllerPki } = await import(join(ROOT, "apps/controller/dist/controller-pki.js"));
const { createApiToken } = await import(join(ROOT, "apps/controller/dist/api-tokens.js"));

// ---------- fixture: one CA and a certificate per host, kept across runs ----------

/** Signing costs ~6 ms a certificate, so 10,000 are made once and reused from the temp dir. */
async function fixture(count) {
  mkdirSync(FIXTURE, { recursive: true });
  const pki = await loadOrCreateControllerPki(FIXTURE);
  const keyFile = join(FIXTURE, "agent.json");
  if (!existsSync(keyFile))
    writeFileSync(keyFile, JSON.stringify(await createKeyAndCsr({ commonName: "agent" })));
  const agentKey = JSON.parse(readFileSync(keyFile, "utf8"));
  const certsFile = join(FIXTURE, "hosts.json");
  const hosts = existsSync(certsFile) ? JSON.parse(readFileSync(certsFile, "utf8")) : [];
  if (hosts.length < count)
    say(`signing ${count - hosts.length} host certificates (once; cached in ${FIXTURE})`);
  while (hosts.length < count) {
    // One key pair for all simulated agents; each host still has its own certificate.
    const hostId = randomUUID();
    const signed = await signCsr(pki.ca, agentKey.csrPem, { commonName: hostId, validityDays: 30 });
    hosts.push({
      hostId,
      certPem: signed.certPem,
      serial: signed.serialNumber.toLowerCase(),
      fingerprintSha256: certificateFingerprint(signed.certPem),
      notAfter: signed.notAfter,
    });
    if (hosts.length % 1000 === 0) {
      writeFileSync(certsFile, JSON.stringify(hosts));
      say(`  ${hosts.length}`);
    }
  }
  writeFileSync(certsFile, JSON.stringify(hosts));
  return { pki, keyPem: agentKey.keyPem, hosts: hosts.slice(0, count) };
}

// ---------- catalog ----------

async function seedCatalog(dataDir, hosts) {
  const catalog = await openCatalog({ url: `file:${join(dataDir, "catalog.db")}` });
  const db = catalog.db;
  for (let i = 0; i < hosts.length; i += 100) {
    const part = hosts.slice(i, i + 100);
    await db.host.createMany({
      data: part.map((h, j) => ({ id: h.hostId, name: `bench-${i + j}`, labels: { bench: "sessions" } })),
    });
    await db.agentCertificate.createMany({
      data: part.map((h) => ({
        hostId: h.hostId,
        serial: h.serial,
        fingerprintSha256: h.fingerprintSha256,
        notAfter: new Date(h.notAfter),
      })),
    });
  }
  return catalog;
}

/**
 * Jobs are created as an operator does, through the REST API: the controller
 * dispatches a job it created at once (a row written into the catalog by
 * another process would wait for the scheduler's next tick).
 */
async function operatorApi(db, apiUrl, caPem) {
  const { token } = await createApiToken(db, { name: `bench-${randomUUID()}`, role: "operator" });
  return {
    createJob: (body) =>
      new Promise((resolve, reject) => {
        const req = httpsRequest(
          new URL("/api/v1/jobs", apiUrl),
          {
            method: "POST",
            ca: caPem,
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          },
          (res) => {
            let text = "";
            res.on("data", (d) => {
              text += d;
            });
            res.on("end", () =>
              res.statusCode === 201
                ? resolve(JSON.parse(text))
                : reject(new Error(`POST /jobs: ${res.statusCode} ${text}`)),
            );
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify(body));
      }),
  };
}

// ---------- processes ----------

function procStat(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
  return { rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024, cpuS: (+fields[11] + +fields[12]) / 100 };
}

async function startController(dataDir) {
  const child = spawn(
    "sh",
    [
      "-c",
      RAISE_NOFILE,
      process.execPath,
      ...args["controller-node-args"].split(" ").filter(Boolean),
      CONTROLLER_MAIN,
      "serve",
      "--data-dir",
      dataDir,
      ...["--session-port", "0", "--enroll-port", "0", "--api-port", "0", "--storage-port", "0"],
      "--heartbeat-interval",
      `${HEARTBEAT_MS / 1000}s`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  let tail = [];
  child.stderr.on("data", (d) => {
    // Keep the start line and any errors; the per-session info lines are thousands.
    for (const line of d.toString().split("\n")) {
      if (line.includes('"controller started"') || line.includes('"level":"error"')) log += `${line}\n`;
      if (line) tail = [...tail.slice(-39), line];
    }
  });
  child.on("exit", (code, signal) => {
    if (!child.stopping) say(`controller exited (${code ?? signal}); its last lines:\n${tail.join("\n")}`);
  });
  for (let i = 0; i < 600; i++) {
    const started = /"controller started".*"sessionAddress":"([^"]+)".*"apiUrl":"([^"]+)"/.exec(log);
    if (started)
      return { child, pid: child.pid, sessionAddress: started[1], apiUrl: started[2], errors: () => log };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`controller did not start:\n${log}`);
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.stopping = true;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await once(child, "exit");
  clearTimeout(timer);
}

function startLoadgen(onMessage) {
  const child = spawn("sh", ["-c", RAISE_NOFILE, process.execPath, LOADGEN], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.on("message", onMessage);
  return child;
}

function request(child, msg, answerType) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.type !== answerType) return;
      child.off("message", on);
      resolve(m);
    };
    child.on("message", on);
    child.send(msg);
  });
}

// ---------- measurements ----------

function percentile(xs, p) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/**
 * How far the catalog trails the agents: for each host, lastSeenAt minus the
 * newest heartbeat (or Hello) it had sent by then (processing plus the presence
 * writer's rounding, ≤ 100 ms), and the age of lastSeenAt now (≤ one heartbeat
 * interval plus that lag while the controller keeps up).
 */
async function sampleHeartbeats(db, loadgens, hostIds) {
  const rows = await db.host.findMany({ select: { id: true, lastSeenAt: true, state: true } });
  const now = Date.now();
  const snaps = await Promise.all(loadgens.map((g) => request(g.child, { type: "snapshot" }, "snapshot")));
  const sendsOf = new Map();
  snaps.forEach((snap, g) => {
    snap.sends.forEach((ring, i) => {
      sendsOf.set(hostIds[g][i], ring);
    });
  });
  const lags = [];
  const ages = [];
  let notOnline = 0;
  for (const row of rows) {
    if (row.state !== "online" || !row.lastSeenAt) {
      notOnline++;
      continue;
    }
    const seen = row.lastSeenAt.getTime();
    ages.push(now - seen);
    const sent = Math.max(...(sendsOf.get(row.id) ?? []).filter((t) => t > 0 && t <= seen));
    if (Number.isFinite(sent)) lags.push(seen - sent);
  }
  return { lags, ages, notOnline, heartbeats: snaps.reduce((n, s) => n + s.heartbeats, 0) };
}

async function runLevel(fx, n) {
  const dataDir = mkdtempSync(join(tmpdir(), "pwdr-session-bench-"));
  cpSync(join(FIXTURE, "pki"), join(dataDir, "pki"), { recursive: true });
  const hosts = fx.hosts.slice(0, n);
  const catalog = await seedCatalog(dataDir, hosts);
  const db = catalog.db;
  const controller = await startController(dataDir);
  const api = await operatorApi(db, controller.apiUrl, fx.pki.ca.certPem);
  const idle = procStat(controller.pid);
  const received = new Map();
  let dropped = 0;
  const onMessage = (m) => {
    if (m.type === "job") received.set(m.jobId, m.at);
    else if (m.type === "dropped") dropped++;
  };
  const loadgens = [];
  const hostIds = [];
  try {
    const per = Math.ceil(n / loadgenCount);
    for (let g = 0; g < loadgenCount; g++) {
      const part = hosts.slice(g * per, (g + 1) * per);
      loadgens.push({ child: startLoadgen(onMessage), part });
      hostIds.push(part.map((h) => h.hostId));
    }
    // ---- connect ----
    const t0 = Date.now();
    const cpu0 = procStat(controller.pid).cpuS;
    const genCpu0 = loadgens.map((g) => procStat(g.child.pid).cpuS);
    const opened = await Promise.all(
      loadgens.map((g) =>
        request(
          g.child,
          {
            type: "open",
            address: controller.sessionAddress,
            caPem: fx.pki.ca.certPem,
            keyPem: fx.keyPem,
            hosts: g.part.map((h) => ({ hostId: h.hostId, certPem: h.certPem })),
            heartbeatMs: HEARTBEAT_MS,
            concurrency: Math.ceil(Number(args.concurrency) / loadgenCount),
          },
          "opened",
        ),
      ),
    );
    const connectS = (Date.now() - t0) / 1000;
    const connectCpuPct = ((procStat(controller.pid).cpuS - cpu0) / connectS) * 100;
    const connectLoadgenCpuPct = loadgens.reduce(
      (s, g, i) => s + ((procStat(g.child.pid).cpuS - genCpu0[i]) / connectS) * 100,
      0,
    );
    const sessions = opened.reduce((s, o) => s + o.ok, 0);
    const failed = opened.reduce((s, o) => s + o.failed, 0);
    say(
      `  ${sessions}/${n} sessions in ${connectS.toFixed(1)} s${failed ? ` (${failed} failed: ${opened.find((o) => o.firstError)?.firstError})` : ""}`,
    );

    // ---- steady state: one interval to spread heartbeats, then measure ----
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS));
    const start = {
      at: Date.now(),
      ctl: procStat(controller.pid),
      gens: loadgens.map((g) => procStat(g.child.pid)),
    };
    const lags = [];
    const ages = [];
    let notOnline = 0;
    let rssMaxMiB = 0;
    const inserted = new Map();
    let nextJob = jobRate > 0 ? start.at : Number.POSITIVE_INFINITY;
    let nextSample = start.at + SAMPLE_MS;
    const end = start.at + durationMs;
    let hb0;
    while (Date.now() < end) {
      const now = Date.now();
      if (now >= nextSample) {
        nextSample += SAMPLE_MS;
        rssMaxMiB = Math.max(rssMaxMiB, procStat(controller.pid).rssMiB);
        const s = await sampleHeartbeats(db, loadgens, hostIds);
        hb0 ??= s.heartbeats;
        lags.push(...s.lags);
        ages.push(...s.ages);
        notOnline = Math.max(notOnline, s.notOnline);
      }
      while (nextJob <= Date.now()) {
        nextJob += 1000 / jobRate;
        const host = hosts[Math.floor(Math.random() * hosts.length)];
        const at = Date.now();
        const job = await api.createJob({ hostId: host.hostId, kind: "verify" });
        inserted.set(job.id, at);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(nextJob, nextSample, end) - Date.now())));
    }
    const stopAt = {
      at: Date.now(),
      ctl: procStat(controller.pid),
      gens: loadgens.map((g) => procStat(g.child.pid)),
    };
    const wallS = (stopAt.at - start.at) / 1000;
    const last = await sampleHeartbeats(db, loadgens, hostIds);
    // ---- late jobs ----
    const graceEnd = Date.now() + JOB_GRACE_MS;
    while (Date.now() < graceEnd && [...inserted.keys()].some((id) => !received.has(id)))
      await new Promise((r) => setTimeout(r, 200));
    const latencies = [...inserted]
      .filter(([id]) => received.has(id))
      .map(([id, at]) => received.get(id) - at);
    const jobStates = await db.job.groupBy({ by: ["state"], _count: true });
    return {
      sessions: n,
      established: sessions,
      failed,
      dropped,
      connectS,
      connectCpuPct,
      connectLoadgenCpuPct,
      idleRssMiB: idle.rssMiB,
      rssMiB: Math.max(rssMaxMiB, stopAt.ctl.rssMiB),
      hwmMiB: stopAt.ctl.hwmMiB,
      cpuPct: ((stopAt.ctl.cpuS - start.ctl.cpuS) / wallS) * 100,
      loadgenCpuPct: stopAt.gens.reduce((s, g, i) => s + ((g.cpuS - start.gens[i].cpuS) / wallS) * 100, 0),
      heartbeatsPerS:
        (last.heartbeats - (hb0 ?? last.heartbeats)) / ((stopAt.at - start.at - SAMPLE_MS) / 1000),
      lagP50Ms: percentile(lags, 50),
      lagP99Ms: percentile(lags, 99),
      ageP99S: percentile(ages, 99) / 1000,
      ageMaxS: ages.reduce((a, b) => Math.max(a, b), 0) / 1000,
      notOnline,
      jobsInserted: inserted.size,
      jobsReceived: latencies.length,
      jobStates: Object.fromEntries(jobStates.map((s) => [s.state, s._count])),
      dispatchP50Ms: percentile(latencies, 50),
      dispatchP99Ms: percentile(latencies, 99),
      controllerErrors: controller
        .errors()
        .split("\n")
        .filter((l) => l.includes('"level":"error"')).length,
    };
  } finally {
    for (const g of loadgens) {
      if (g.child.connected) g.child.send({ type: "close" });
    }
    await Promise.all(loadgens.map((g) => (g.child.exitCode === null ? once(g.child, "exit") : undefined)));
    await stop(controller.child);
    await catalog.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------- report ----------

const fmt = (x, digits = 0) => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits));

function medianRow(rs) {
  const m = (k) => median(rs.map((r) => r[k]));
  const row = { runs: rs.length };
  for (const k of Object.keys(rs[0])) if (typeof rs[0][k] === "number") row[k] = m(k);
  return row;
}

function table(rows) {
  const lines = [
    "| sessions | runs | connect s | ctrl RSS MiB (idle → held, peak) | ctrl CPU % | loadgen CPU % | heartbeats/s | hb lag p50/p99 ms | lastSeen age p99/max s | jobs received | dispatch p50/p99 ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const jobs =
      r.jobsReceived === 0 && r.jobsInserted > 0
        ? "0 (no dispatcher)"
        : `${r.jobsReceived}/${r.jobsInserted}`;
    lines.push(
      `| ${r.established}/${r.sessions} | ${r.runs} | ${fmt(r.connectS, 1)} | ${fmt(r.idleRssMiB)} → ${fmt(r.rssMiB)}, ${fmt(r.hwmMiB)} | ${fmt(r.cpuPct, 1)} | ${fmt(r.loadgenCpuPct, 1)} | ${fmt(r.heartbeatsPerS)} | ${fmt(r.lagP50Ms)}/${fmt(r.lagP99Ms)} | ${fmt(r.ageP99S, 1)}/${fmt(r.ageMaxS, 1)} | ${jobs} | ${fmt(r.dispatchP50Ms)}/${fmt(r.dispatchP99Ms)} |`,
    );
  }
  return lines.join("\n");
}

function ratios(rows) {
  const out = [];
  for (const r of rows) {
    const perSessionKiB = ((r.rssMiB - r.idleRssMiB) * 1024) / r.established;
    const cpuPer1k = r.cpuPct / (r.established / 1000);
    out.push(
      `${r.sessions}: ${fmt(perSessionKiB, 1)} KiB RSS per session, ${fmt(cpuPer1k, 2)} % CPU per 1,000 sessions, connect ${fmt(r.established / r.connectS)} sessions/s`,
    );
  }
  return out.join("\n");
}

const fx = await fixture(Math.max(...levels));
const results = [];
for (const n of levels) {
  const perRun = [];
  for (let run = 1; run <= runs; run++) {
    say(`${n} sessions, run ${run}/${runs}`);
    const r = await runLevel(fx, n);
    if (r.jobsInserted > 0 && r.jobsReceived === 0)
      say(
        `  no dispatcher: 0 jobs received of ${r.jobsInserted} inserted (job states: ${JSON.stringify(r.jobStates)})`,
      );
    say(`  ${JSON.stringify(r)}`);
    perRun.push(r);
  }
  results.push({ sessions: n, runs: perRun, median: medianRow(perRun) });
}
if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
else {
  const rows = results.map((r) => r.median);
  process.stdout.write(`${table(rows)}\n\n${ratios(rows)}\n`);
}
