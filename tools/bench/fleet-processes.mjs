// A controller and its agents as real processes for dr-bench.mjs: the
// built CLIs (dist, the agent through its launcher), enrollment through the
// CLIs and the REST API over HTTPS with the controller's CA pinned. The
// same steps as test/src/fleet-fixture.ts, without vitest.
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./reference-host.mjs";

export const CONTROLLER_MAIN = join(ROOT, "apps/controller/dist/main.js");
/** The installed launcher (memory settings included), as systemd and operators run the agent. */
export const AGENT = join(ROOT, "packaging/pwdr-agent");
/** Log lines kept per process for error messages. */
const KEEP_LINES = 400;

/** A long-running process whose JSON log lines on stderr can be awaited. */
export class Daemon {
  lines = [];
  #partial = "";
  #waiters = [];

  constructor(name, cmd, args, env) {
    this.name = name;
    this.child = spawn(cmd, args, { cwd: ROOT, env, stdio: ["ignore", "ignore", "pipe"] });
    this.child.stderr.on("data", (d) => this.#take(d.toString()));
  }

  get pid() {
    return this.child.pid;
  }

  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  #take(text) {
    const parts = (this.#partial + text).split("\n");
    this.#partial = parts.pop();
    for (const raw of parts) {
      let line;
      try {
        line = JSON.parse(raw);
      } catch {
        line = { msg: raw };
      }
      this.lines.push(line);
      if (this.lines.length > KEEP_LINES) this.lines.shift();
      for (const w of this.#waiters.filter((w) => w.msg === line.msg)) w.resolve(line);
      this.#waiters = this.#waiters.filter((w) => w.msg !== line.msg);
    }
  }

  tail(n = 30) {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** The first log line (past or future) whose `msg` is `msg`; rejects when the process exits first. */
  waitForLog(msg, timeoutMs = 60_000) {
    const seen = this.lines.find((l) => l.msg === msg);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why) => reject(new Error(`${this.name}: no "${msg}" log line: ${why}\n${this.tail()}`));
      if (!this.running) return fail("the process has exited");
      const exited = (code, signal) => {
        clearTimeout(timer);
        fail(`the process exited (${code ?? signal})`);
      };
      const timer = setTimeout(() => {
        this.child.off("exit", exited);
        fail(`none in ${timeoutMs} ms`);
      }, timeoutMs);
      this.child.once("exit", exited);
      this.#waiters.push({
        msg,
        resolve: (l) => {
          clearTimeout(timer);
          this.child.off("exit", exited);
          resolve(l);
        },
      });
    });
  }

  /** Peak resident set (VmHWM) in MiB since the start or the last resetPeak. */
  peakRssMiB() {
    const kb = readFileSync(`/proc/${this.pid}/status`, "utf8").match(/^VmHWM:\s+(\d+) kB/m)?.[1];
    return Math.round(Number(kb) / 1024);
  }

  /** CPU seconds so far (user + system, waited-for children included: the agent's pg_restore runs). */
  cpuSecs() {
    const fields = readFileSync(`/proc/${this.pid}/stat`, "utf8").split(") ")[1].split(" ");
    // utime, stime, cutime, cstime are fields 14-17 of stat, in clock ticks (100 per second on Linux).
    return fields.slice(11, 15).reduce((n, f) => n + Number(f), 0) / 100;
  }

  /** Starts a new VmHWM measurement from the current RSS (Linux: clear_refs 5). */
  resetPeak() {
    writeFileSync(`/proc/${this.pid}/clear_refs`, "5");
  }

  /** Sends `signal`, escalates to SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(signal = "SIGTERM", graceMs = 30_000) {
    if (!this.running) return;
    const exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

const execFileP = promisify(execFile);

/** Runs a CLI to completion; throws with its stderr when it fails. */
async function runCli(cmd, args, env) {
  try {
    const { stdout } = await execFileP(cmd, args, { cwd: ROOT, env, maxBuffer: 1 << 24 });
    return stdout;
  } catch (err) {
    throw new Error(`${cmd} ${args[0]} ${args[1] ?? ""} failed: ${err.stderr || err.message}`);
  }
}

/** The REST API over HTTPS, the controller's CA pinned; anything but 2xx throws with the API's error. */
export function apiClient(baseUrl, token, caPem) {
  const call = (method, path, body) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers = { authorization: `Bearer ${token}` };
    if (payload !== undefined) headers["content-type"] = "application/json";
    return new Promise((resolve, reject) => {
      const req = request(new URL(path, baseUrl), { method, headers, ca: caPem }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => {
          if ((res.statusCode ?? 0) >= 300)
            reject(new Error(`${method} ${path} answered ${res.statusCode}: ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  };
  return { get: (path) => call("GET", path), post: (path, body) => call("POST", path, body) };
}

/** Polls `probe` until it returns something other than undefined. */
export async function eventually(what, probe, timeoutMs = 120_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * `pwdr-controller serve` on loopback with its own ports, an admin API token
 * made with the local CLI (as an operator bootstraps one) and a client.
 */
export async function startController({ dataDir, ports, env, daemonEnv = env }) {
  const daemon = new Daemon(
    "controller",
    process.execPath,
    [
      CONTROLLER_MAIN,
      "serve",
      "--data-dir",
      dataDir,
      "--session-port",
      String(ports.session),
      "--enroll-port",
      String(ports.enroll),
      "--api-port",
      String(ports.api),
      "--storage-port",
      String(ports.storage),
    ],
    daemonEnv,
  );
  await daemon.waitForLog("controller started");
  const token = (
    await runCli(
      process.execPath,
      [
        CONTROLLER_MAIN,
        "api-token",
        "create",
        "--name",
        "bench-admin",
        "--role",
        "admin",
        "--data-dir",
        dataDir,
      ],
      env,
    )
  ).trim();
  const caPem = readFileSync(join(dataDir, "pki", "ca.crt"), "utf8");
  return {
    daemon,
    dataDir,
    api: apiClient(`https://127.0.0.1:${ports.api}`, token, caPem),
    enrollAddress: `127.0.0.1:${ports.enroll}`,
  };
}

/**
 * Enrolls an agent (a one-time token from the API traded with `pwdr-agent
 * enroll`), writes its config (the host definition plus its link to the
 * controller, repository on the controller's storage) and starts its daemon
 * through the launcher (in `daemonEnv`); resolves once it has a session.
 */
export async function startAgent(controller, { name, agentDir, definition, env, daemonEnv = env }) {
  const { token } = await controller.api.post("/api/v1/enrollment-tokens", {
    ttl: "10m",
    labels: { name, role: "bench" },
  });
  const enrolled = JSON.parse(
    await runCli(
      AGENT,
      [
        "enroll",
        "--controller",
        controller.enrollAddress,
        "--token",
        token,
        "--data-dir",
        agentDir,
        "--json",
      ],
      env,
    ),
  );
  const config = join(agentDir, "agent.json");
  writeFileSync(
    config,
    JSON.stringify({
      ...definition,
      stateDir: join(agentDir, "state"),
      logLevel: "info",
      controller: { dataDir: agentDir },
      repository: { controller: true, dataDir: agentDir },
      drills: { workDir: join(agentDir, "drills") },
    }),
  );
  const daemon = new Daemon(name, AGENT, ["daemon", "-c", config], daemonEnv);
  await daemon.waitForLog("connected to controller");
  return { name, hostId: enrolled.hostId, daemon };
}
