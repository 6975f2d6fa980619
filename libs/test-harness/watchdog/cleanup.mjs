// Synchronous teardown of test resources, shared by the owning process (stop(), stopAll(), exit)
// and by the watchdog that outlives it. Plain JavaScript so the watchdog runs without a TS loader.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Commands still running may create what later phases remove, so they go first; directories last. */
const PHASES = ["command", "postgres", "process", "pidfile", "directory"];
const COMMAND_WAIT_MS = 30_000;
const PROCESS_WAIT_MS = 5_000;

/**
 * Tears down `resources`; each failure is reported through `log` and returned so one stuck
 * resource never keeps the others alive.
 */
export function cleanUp(resources, log = () => {}) {
  const failures = [];
  for (const phase of PHASES) {
    for (const resource of resources.filter((r) => r.kind === phase)) {
      try {
        HANDLERS[phase](resource);
      } catch (error) {
        failures.push(`${JSON.stringify(resource)}: ${error instanceof Error ? error.message : error}`);
        log(`cleanup failed for ${failures.at(-1)}`);
      }
    }
  }
  return failures;
}

const HANDLERS = {
  command: ({ pid }) => {
    if (!waitForExit(pid, COMMAND_WAIT_MS)) killAndWait(pid);
  },
  postgres: stopPostgres,
  process: ({ pid }) => killAndWait(pid),
  pidfile: ({ path }) => {
    if (!existsSync(path)) return;
    const pid = Number.parseInt(readFileSync(path, "utf8").trim(), 10);
    if (pid > 0) killAndWait(pid);
  },
  directory: ({ path }) => rmSync(path, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }),
};

/** `pg_ctl stop -m immediate` as the server's owner; SIGKILL to the postmaster if that did not work. */
function stopPostgres({ pgCtl, dataDir, runAsUser }) {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const args = ["stop", "-D", dataDir, "-m", "immediate", "-w", "-t", "30"];
  const [file, argv] = runAsUser ? ["runuser", ["-u", runAsUser, "--", pgCtl, ...args]] : [pgCtl, args];
  spawnSync(file, argv, { stdio: "ignore", cwd: "/", timeout: 40_000 });
  if (!existsSync(pidFile)) return;
  const postmasterPid = Number.parseInt(readFileSync(pidFile, "utf8").split("\n")[0] ?? "", 10);
  if (postmasterPid > 0) killAndWait(postmasterPid);
}

function killAndWait(pid) {
  // kill(0) or kill(-1) would hit the whole process group or every process.
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`refusing to kill pid ${pid}`);
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if (error.code !== "ESRCH") throw error;
  }
  if (!waitForExit(pid, PROCESS_WAIT_MS)) throw new Error(`process ${pid} survived SIGKILL`);
}

function waitForExit(pid, timeoutMs) {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    sleep(50);
  }
  return true;
}

/** A zombie counts as gone: it can no longer touch files, and only its parent can reap it. */
export function isRunning(pid) {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return error.code === "EPERM";
  }
  try {
    return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true;
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
