import { execFileSync } from "node:child_process";
import { accessSync, appendFileSync, constants, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RepoError } from "@pwdr/repo";
import { runCommand } from "../services/run-command.js";
import {
  accountWhenRoot,
  asAccount,
  freePort,
  giveTo,
  killIfStillOurs,
  LOOPBACK,
  majorOf,
  type ServerAccount,
  writePasswordFile,
} from "./sandbox-support.js";

/**
 * The sandbox's superuser. Not "postgres": the restored roles include the
 * live host's postgres role, password and all, and must not lock us out.
 */
export const SANDBOX_PG_USER = "pwdr_drill";
const START_TIMEOUT_S = 60;
const PORT_ATTEMPTS = 3;

/** A throwaway PostgreSQL on loopback, password-protected, its data in the sandbox directory. */
export interface SandboxPostgres {
  host: string;
  port: number;
  user: string;
  passwordFile: string;
  binDir: string;
  stop(): Promise<void>;
}

export interface PostgresRecord {
  /** The backed-up server's version, e.g. "15.8 (Debian 15.8-0+deb12u1)". */
  version: string;
  /** Where the host's definition said the tools are. */
  binDir?: string | undefined;
}

interface Layout {
  binDir: string;
  account: ServerAccount | null;
  dataDir: string;
  socketDir: string;
  logFile: string;
  passwordFile: string;
}

/**
 * initdb and start a PostgreSQL of the recorded major version in `dir`
 * (which must not exist yet). Durability settings are off: the data is
 * thrown away after the drill. On failure the server is stopped again.
 */
export async function startSandboxPostgres(dir: string, record: PostgresRecord): Promise<SandboxPostgres> {
  const layout = prepare(dir, serverBinDir(record));
  const stop = () => stopServer(layout);
  try {
    await initDataDir(layout);
    const port = await startOnFreePort(layout);
    const base = { host: LOOPBACK, port, user: SANDBOX_PG_USER, binDir: layout.binDir };
    return { ...base, passwordFile: layout.passwordFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The recorded binDir when it holds the same major version, else Debian's /usr/lib/postgresql/<major>/bin. */
export function serverBinDir(record: PostgresRecord): string {
  const major = majorOf(record.version);
  if (major === undefined) {
    throw new RepoError(
      "invalid_argument",
      `recorded PostgreSQL version "${record.version}" has no major version`,
    );
  }
  const candidates = [record.binDir, `/usr/lib/postgresql/${major}/bin`].filter((d): d is string => !!d);
  const found = candidates.find((dir) => installedMajor(dir) === major);
  if (found) return found;
  throw new RepoError(
    "source_failed",
    `the sandbox needs PostgreSQL ${major} server binaries (initdb, pg_ctl); none in ${candidates.join(" or ")}`,
  );
}

function installedMajor(binDir: string): number | undefined {
  try {
    accessSync(join(binDir, "initdb"), constants.X_OK);
    const out = execFileSync(join(binDir, "pg_ctl"), ["--version"], { encoding: "utf8" });
    return Number(/\(PostgreSQL\)\s+(\d+)/.exec(out)?.[1]);
  } catch {
    return undefined;
  }
}

function prepare(dir: string, binDir: string): Layout {
  const account = accountWhenRoot("postgres");
  mkdirSync(join(dir, "socket"), { recursive: true, mode: 0o700 });
  giveTo(account, dir, join(dir, "socket"));
  return {
    binDir,
    account,
    dataDir: join(dir, "data"),
    socketDir: join(dir, "socket"),
    logFile: join(dir, "postgres.log"),
    passwordFile: writePasswordFile(join(dir, "password"), account),
  };
}

async function initDataDir(layout: Layout): Promise<void> {
  await runAsServer(
    layout,
    [
      join(layout.binDir, "initdb"),
      ...["-D", layout.dataDir, "-U", SANDBOX_PG_USER, "--pwfile", layout.passwordFile],
      ...["-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "-N"],
    ],
    "initdb of the sandbox PostgreSQL",
  );
  const settings = {
    listen_addresses: LOOPBACK,
    unix_socket_directories: layout.socketDir,
    fsync: "off",
    full_page_writes: "off",
    synchronous_commit: "off",
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key} = '${value.replaceAll("'", "''")}'`);
  appendFileSync(join(layout.dataDir, "postgresql.conf"), `\n# restore drill sandbox\n${lines.join("\n")}\n`);
}

/** Another process can take the probed port before the postmaster binds it; then try another. */
async function startOnFreePort(layout: Layout): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await runAsServer(
        layout,
        [
          join(layout.binDir, "pg_ctl"),
          ...["start", "-D", layout.dataDir, "-l", layout.logFile, "-w", "-t", String(START_TIMEOUT_S)],
          ...["-o", `-p ${port}`],
        ],
        `start of the sandbox PostgreSQL on ${LOOPBACK}:${port}`,
      );
      return port;
    } catch (err) {
      if (attempt === PORT_ATTEMPTS) throw err;
    }
  }
}

/**
 * Immediate shutdown: nothing in the sandbox is worth a checkpoint. Safe
 * when it never started; a postmaster that outlives pg_ctl is killed.
 */
async function stopServer(layout: Layout): Promise<void> {
  await runAsServer(
    layout,
    [join(layout.binDir, "pg_ctl"), "stop", "-D", layout.dataDir, "-m", "immediate", "-w"],
    "stop of the sandbox PostgreSQL",
  ).catch(() => {});
  const pid = postmasterPid(layout.dataDir);
  if (pid !== undefined) killIfStillOurs(pid, layout.dataDir);
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, "postmaster.pid"), "utf8"), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function runAsServer(layout: Layout, argv: string[], purpose: string): Promise<unknown> {
  return runCommand({
    argv: asAccount(layout.account, argv),
    timeoutMs: (START_TIMEOUT_S + 30) * 1000,
    purpose,
  });
}
