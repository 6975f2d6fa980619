import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RepoError } from "@pwdr/repo";
import type { ServiceControl } from "../definition/host-definition.js";
import { runCommand } from "../services/run-command.js";
import {
  freePort,
  killIfStillOurs,
  LOOPBACK,
  majorOf,
  processGone,
  waitUntil,
  writePasswordFile,
} from "./sandbox-support.js";

const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

/** A throwaway redis-server on loopback with a password, its data dir in the sandbox. */
export interface SandboxRedis {
  host: string;
  port: number;
  passwordFile: string;
  dataDir: string;
  /** Stops and starts this server through its pid file, as a files-mode restore needs. */
  service: Extract<ServiceControl, { type: "commands" }>;
  stop(): Promise<void>;
}

/** What the backup recorded about the Redis it came from. */
export interface RedisRecord {
  /** e.g. "7.0.15"; the sandbox runs the same major version. */
  version: string;
  /** The backed-up server's persistence: the sandbox matches it (yes when unknown). */
  appendonly?: boolean | undefined;
  /** AOF names of the backed-up server; a restore of its AOF needs the same ones. */
  aof?: { dirname: string; appendfilename: string } | undefined;
}

/**
 * Starts a redis-server (from PATH) of the recorded major version in `dir`,
 * daemonized with a pid file so the restore can stop and start it like a
 * host's service.
 */
export async function startSandboxRedis(dir: string, record: RedisRecord): Promise<SandboxRedis> {
  const binary = redisBinaryFor(record.version);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwordFile = writePasswordFile(join(dir, "password"), null);
  const password = readFileSync(passwordFile, "utf8").trim();
  const configFile = join(dir, "redis.conf");
  const pidFile = join(dir, "redis.pid");
  const service = serviceFor(binary, configFile, pidFile);
  let port = 0;
  const stop = () => stopServer(pidFile, port);
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      writeFileSync(configFile, configText({ dir, port, pidFile, password, record }), { mode: 0o600 });
      if (await startAndWait(service, port, password)) break;
      await stop();
      if (attempt === PORT_ATTEMPTS) throw notStarted(dir, port);
    }
    return { host: LOOPBACK, port, passwordFile, dataDir: dir, service, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function redisBinaryFor(version: string): string {
  const wanted = majorOf(version);
  let installed: string | undefined;
  try {
    installed = /v=(\d+\.\d+\.\d+)/.exec(
      execFileSync("redis-server", ["--version"], { encoding: "utf8" }),
    )?.[1];
  } catch {
    throw new RepoError("source_failed", `the sandbox needs redis-server ${wanted}.x on PATH; none found`);
  }
  if (installed === undefined || majorOf(installed) !== wanted) {
    throw new RepoError(
      "source_failed",
      `the sandbox needs Redis ${wanted}.x like the backed-up server (${version}); redis-server on PATH is ${installed ?? "unknown"}`,
    );
  }
  return "redis-server";
}

function configText(c: {
  dir: string;
  port: number;
  pidFile: string;
  password: string;
  record: RedisRecord;
}) {
  // JSON strings are valid redis.conf quoted strings, so unusual paths stay one argument.
  const q = JSON.stringify;
  const lines = [
    `port ${c.port}`,
    `bind ${LOOPBACK}`,
    "daemonize yes",
    `dir ${q(c.dir)}`,
    `pidfile ${q(c.pidFile)}`,
    `logfile ${q(join(c.dir, "redis.log"))}`,
    `requirepass ${q(c.password)}`,
    `appendonly ${c.record.appendonly === false ? "no" : "yes"}`,
    ...(c.record.aof
      ? [`appenddirname ${q(c.record.aof.dirname)}`, `appendfilename ${q(c.record.aof.appendfilename)}`]
      : []),
  ];
  return `${lines.join("\n")}\n`;
}

/** Stop waits until the process has exited, so the restore can swap files safely. */
function serviceFor(binary: string, configFile: string, pidFile: string): SandboxRedis["service"] {
  const pid = shellQuote(pidFile);
  return {
    type: "commands",
    stop: `p=$(cat ${pid}) && kill $p && while kill -0 $p 2>/dev/null; do sleep 0.05; done`,
    start: `${binary} ${shellQuote(configFile)}`,
    timeoutMs: 60_000,
  };
}

async function startAndWait(
  service: SandboxRedis["service"],
  port: number,
  password: string,
): Promise<boolean> {
  await runCommand({
    argv: ["/bin/sh", "-c", service.start],
    timeoutMs: service.timeoutMs,
    purpose: "start of the sandbox Redis",
  });
  return waitUntil(() => answersPing(port, password), READY_TIMEOUT_MS);
}

async function answersPing(port: number, password: string): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const client = new Redis({
    host: LOOPBACK,
    port,
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } finally {
    client.disconnect();
  }
}

/** SIGKILL: the sandbox's data is thrown away, a final save would only cost time. */
async function stopServer(pidFile: string, port: number): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, "utf8"), 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  killIfStillOurs(pid, `${LOOPBACK}:${port}`);
  await waitUntil(async () => processGone(pid), 10_000);
}

function notStarted(dir: string, port: number): RepoError {
  const log = join(dir, "redis.log");
  const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-3).join("; ") : "";
  return new RepoError(
    "source_failed",
    `the sandbox Redis did not start on ${LOOPBACK}:${port}${tail ? `: ${tail}` : ""}`,
  );
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
