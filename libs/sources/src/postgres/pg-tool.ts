import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { type PgConnection, toolEnv } from "./pg-connection.js";
import { sourceFailed } from "./pg-errors.js";

const STDERR_TAIL = 4096;

/** One run of a client tool (pg_dump, pg_restore, psql …) against `database`. */
export interface ToolRun {
  conn: PgConnection;
  tool: string;
  args: string[];
  database: string;
  /** What the run is doing, for the error message ("pg_dump of table public.scans"). */
  what: string;
  /** How much of stderr to keep (the tail); 4 KiB when omitted. */
  stderrLimit?: number;
  /** Kills the tool when aborted: another dump of the same backup failed, so this one is wasted. */
  signal?: AbortSignal;
}

export function toolPath(conn: PgConnection, tool: string): string {
  return conn.binDir ? join(conn.binDir, tool) : tool;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

interface Started {
  child: ChildProcess;
  exited: Promise<Exit>;
  stderr: () => string;
}

function start(run: ToolRun, stdin: "pipe" | "ignore"): Started {
  const child = spawn(toolPath(run.conn, run.tool), run.args, {
    env: toolEnv(run.conn, run.database),
    stdio: [stdin, "pipe", "pipe"],
  });
  let tail = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    tail = (tail + d).slice(-(run.stderrLimit ?? STDERR_TAIL));
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  killOnAbort(child, exited, run.signal);
  return { child, exited, stderr: () => tail };
}

function killOnAbort(child: ChildProcess, exited: Promise<Exit>, signal: AbortSignal | undefined): void {
  if (!signal) return;
  const kill = () => child.kill("SIGKILL");
  if (signal.aborted) kill();
  signal.addEventListener("abort", kill, { once: true });
  exited.then(() => signal.removeEventListener("abort", kill));
}

function failure(run: ToolRun, exit: Exit, stderr: string) {
  const how = exit.error
    ? `could not start ${run.tool} (${exit.error.message}); install the PostgreSQL client tools or set binDir`
    : exit.signal
      ? `${run.tool} was killed by ${exit.signal}`
      : `${run.tool} exited with status ${exit.code}`;
  const detail = stderr.trim() ? `: ${stderr.trim()}` : "";
  return sourceFailed(run.conn, `${run.what} failed: ${how}${detail}`);
}

/**
 * Streams a tool's stdout; throws `source_failed` with the stderr tail when
 * it fails, after its last bytes, so a consumer never takes a truncated dump
 * as complete. Kills the tool if the consumer stops early.
 */
export async function* streamTool(run: ToolRun): AsyncGenerator<Buffer> {
  const { child, exited, stderr } = start(run, "ignore");
  try {
    if (child.stdout) for await (const chunk of child.stdout) yield chunk as Buffer;
    const exit = await exited;
    if (exit.code !== 0) throw failure(run, exit, stderr());
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

/**
 * Runs a tool with `feed` writing its stdin; resolves to its stderr. A tool
 * failure is reported in preference to the broken pipe it causes in `feed`.
 */
export async function runToolWithInput(
  run: ToolRun,
  feed: (stdin: Writable) => Promise<unknown>,
): Promise<{ stdout: string; stderr: string }> {
  const { child, exited, stderr } = start(run, "pipe");
  let stdout = "";
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (d: string) => {
    stdout = (stdout + d).slice(-STDERR_TAIL);
  });
  const stdin = child.stdin as Writable;
  stdin.on("error", () => {}); // EPIPE when the tool exits early; its exit status says why.
  const fed = feed(stdin).then(
    () => undefined,
    (err: unknown) => err,
  );
  const feedError = await fed;
  stdin.end();
  if (feedError !== undefined) child.kill("SIGKILL");
  const exit = await exited;
  if (exit.code !== 0 && !(feedError !== undefined && exit.signal === "SIGKILL")) {
    throw failure(run, exit, stderr());
  }
  if (feedError !== undefined) throw feedError;
  return { stdout, stderr: stderr() };
}

/** Runs a tool to completion without input; resolves to its stdout. */
export async function runTool(run: ToolRun): Promise<string> {
  let out = "";
  for await (const chunk of streamTool(run)) out += chunk.toString("utf8");
  return out;
}
