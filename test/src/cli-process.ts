import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
export const CONTROLLER_MAIN = join(ROOT, "apps/controller/src/main.ts");
export const AGENT_MAIN = join(ROOT, "apps/agent/src/main.ts");

// One process per CLI (not an `npx tsx` chain), so a kill reaches the program itself.
const NODE_ARGS = ["--conditions=development", "--import", "tsx"];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI to completion. */
export function runCli(main: string, args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, main, ...args], { cwd: ROOT });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${main} ${args.join(" ")} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running CLI process whose JSON log lines on stderr can be awaited. */
export class DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[] = [];
  #stderr = "";
  #waiters: {
    match: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];

  constructor(main: string, args: string[]) {
    this.child = spawn(process.execPath, [...NODE_ARGS, main, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child.stderr?.on("data", (d: Buffer) => this.#take(d.toString()));
  }

  get stderr(): string {
    return this.#stderr;
  }

  #take(text: string): void {
    this.#stderr += text;
    const parts = this.#stderr.split("\n");
    const complete = parts.slice(this.lines.length, -1);
    for (const raw of complete) {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        line = { msg: raw };
      }
      this.lines.push(line);
      const ready = this.#waiters.filter((w) => w.match(line));
      this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve(line);
    }
  }

  /**
   * Resolves with the first log line (past or future) whose `msg` equals `msg`;
   * rejects at once if the process exits first.
   */
  waitForLog(msg: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const match = (l: Record<string, unknown>) => l.msg === msg;
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.reject(
        new Error(`no "${msg}" log line: the process has exited; stderr:\n${this.#stderr}`),
      );
    return new Promise((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`no "${msg}" log line: ${why}; stderr:\n${this.#stderr}`));
      const exited = (code: number | null) => {
        clearTimeout(timer);
        fail(`the process exited (${code})`);
      };
      const timer = setTimeout(() => {
        this.child.off("exit", exited);
        fail(`none in ${timeoutMs} ms`);
      }, timeoutMs);
      this.child.once("exit", exited);
      this.#waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          this.child.off("exit", exited);
          resolve(l);
        },
      });
    });
  }

  /** Resolves with the exit code once the process ends on its own. */
  exited(timeoutMs = 30_000): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`process still running after ${timeoutMs} ms; stderr:\n${this.#stderr}`)),
        timeoutMs,
      );
      this.child.once("exit", (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolve) => this.child.once("exit", (code) => resolve(code)));
    this.child.kill(signal);
    return exited;
  }
}
