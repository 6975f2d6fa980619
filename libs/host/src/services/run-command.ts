import { spawn } from "node:child_process";
import { RepoError } from "@pwdr/repo";

export interface CommandRun {
  /** argv[0] and its arguments; no shell unless the caller asks for one (`/bin/sh -c`). */
  argv: string[];
  timeoutMs: number;
  /** Shown in errors: what this command was for, e.g. "stop of the application services". */
  purpose: string;
}

const STDERR_TAIL = 400;

/**
 * Runs a service-control command to completion. A non-zero exit, a signal
 * or the time-out is a `source_failed` error naming the purpose, the exit
 * and the end of stderr (hook commands are the operator's own; their output
 * is what tells them why).
 */
export function runCommand(run: CommandRun): Promise<{ stdout: string }> {
  const [file, ...args] = run.argv;
  if (!file) throw new RepoError("invalid_argument", `empty command for the ${run.purpose}`);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ["ignore", "pipe", "pipe"], timeout: run.timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr = (stderr + d).slice(-STDERR_TAIL);
    });
    child.on("error", (err) => {
      reject(new RepoError("source_failed", `the ${run.purpose} could not run ${file}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      if (code === 0) return resolve({ stdout });
      const how =
        signal === "SIGTERM" && child.killed
          ? `did not finish within ${run.timeoutMs} ms`
          : signal
            ? `was killed by ${signal}`
            : `exited with status ${code}`;
      const tail = stderr.trim() ? `: ${stderr.trim()}` : "";
      reject(new RepoError("source_failed", `the ${run.purpose} (${file}) ${how}${tail}`));
    });
  });
}

/** A shell command line from a definition, run by /bin/sh. */
export function shell(command: string): string[] {
  return ["/bin/sh", "-c", command];
}
