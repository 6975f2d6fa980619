import { spawn } from "node:child_process";
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { CommandSpec } from "@pwdr/protocol";
import { failed, type JobOutcome } from "./job-outcome.js";
import type { Run } from "./job-run.js";

const TAIL_LINES = 20;
/** Kept while the command runs: enough for 20 long lines, bounded however much it prints. */
const TAIL_BYTES = 16 * 1024;
const KILL_GRACE_MS = 5_000;
const OUTPUT_DRAIN_MS = 100;

interface Exit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string[];
  durationMs: number;
}

/**
 * Runs an operator's command (a DR plan's custom step) through /bin/sh with
 * the agent's privileges and environment. Succeeds on exit status 0; the
 * result has the exit and the last lines of stdout and stderr together.
 * Whether running it twice is safe is the command's own business.
 */
export async function commandJob(spec: CommandSpec, run: Run): Promise<JobOutcome> {
  if (!spec.command.trim()) return failed("invalid_argument", "the command job has an empty command");
  const timeoutMs = spec.timeout ? durationMs(spec.timeout) : undefined;
  run.ctx.onProgress({ phase: "command", bytesDone: 0, item: spec.command.slice(0, 80) });
  const exit = await runShell(spec.command, timeoutMs, run.ctx.signal);
  run.ctx.signal.throwIfAborted();
  const details = { ...exit };
  if (exit.exitCode === 0) return { state: "succeeded", details };
  const how = exit.timedOut
    ? `did not finish within ${timeoutMs} ms and was killed`
    : exit.signal
      ? `was killed by ${exit.signal}`
      : `exited with status ${exit.exitCode}`;
  const last = exit.output.at(-1);
  return {
    ...failed("command_failed", `the command ${how}${last ? ` (last output: ${last})` : ""}`),
    details,
  };
}

function runShell(command: string, timeoutMs: number | undefined, signal: AbortSignal): Promise<Exit> {
  const started = performance.now();
  // Its own process group, so a time-out or cancel also ends what the shell started.
  const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let tail = "";
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let timedOut = false;
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, sig);
    } catch {} // already gone
  };
  const kill = () => {
    signalGroup("SIGTERM");
    setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS).unref();
  };
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          kill();
        }, timeoutMs);
  signal.addEventListener("abort", kill, { once: true });
  return new Promise((resolve) => {
    const finish = (exitCode: number | null, sig: NodeJS.Signals | null) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", kill);
      const output = tail
        .split("\n")
        .filter((l) => l.trim() !== "")
        .slice(-TAIL_LINES);
      resolve({
        exitCode,
        signal: sig,
        timedOut,
        output,
        durationMs: Math.round(performance.now() - started),
      });
    };
    child.on("error", (err) => {
      tail += `\n${err.message}`;
      finish(127, null);
    });
    // Not "close": a process the command left running in the background (`app &`) holds the
    // pipes open. What the shell printed is read for a moment longer, then the pipes are let go.
    child.on("exit", (code, sig) =>
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish(code, sig);
      }, OUTPUT_DRAIN_MS),
    );
  });
}
