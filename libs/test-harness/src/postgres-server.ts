import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { InvalidOptionsError, ServerStartError } from "./errors.js";
import { freePort } from "./free-port.js";
import { logTail } from "./log-tail.js";
import { postgresBinDir } from "./postgres-binaries.js";
import { resourceRegistry } from "./resource-registry.js";
import { runCommand } from "./run-command.js";
import { giveTo, type ServiceAccount, serviceAccountFor } from "./service-account.js";
import { createTempDir } from "./temp-dir.js";
import { waitUntil } from "./wait-until.js";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 30_000;
const PORT_ATTEMPTS = 3;

export interface PostgresOptions {
  /** Databases created once the server is up. */
  databases?: readonly string[];
}

export interface PostgresServer {
  host: string;
  port: number;
  /** Superuser `postgres`, trust auth, database `postgres`. */
  url: string;
  urlFor(database: string): string;
  binDir: string;
  /** The temporary directory holding dataDir, socketDir and logFile; removed by stop(). */
  dir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** Major version, e.g. 15. */
  version: number;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

interface Layout {
  binDir: string;
  account: ServiceAccount | null;
  dir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
}

/** A throwaway PostgreSQL on a free loopback port, torn down even if the test process is killed. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const binDir = postgresBinDir();
  const account = serviceAccountFor(
    "postgres",
    "it is created by `apt-get install postgresql`; initdb refuses to run as root",
  );
  const tempDir = createTempDir("postgres");
  const registry = resourceRegistry();
  const layout = prepareLayout(binDir, account, tempDir.path);
  const serverId = registry.add({
    kind: "postgres",
    pgCtl: join(binDir, "pg_ctl"),
    dataDir: layout.dataDir,
    runAsUser: account?.user ?? null,
  });
  const stop = async () => registry.dispose([serverId, tempDir.resourceId]);
  try {
    await initDataDir(layout);
    const port = await startOnFreePort(layout);
    const server = describeServer(layout, port, await majorVersion(binDir), stop);
    for (const database of options.databases ?? []) await server.createDatabase(database);
    return server;
  } catch (error) {
    // The start failure is the error worth reporting, not a secondary cleanup one.
    await stop().catch(() => {});
    throw error;
  }
}

function prepareLayout(binDir: string, account: ServiceAccount | null, dir: string): Layout {
  const layout = {
    binDir,
    account,
    dir,
    dataDir: join(dir, "data"),
    socketDir: join(dir, "socket"),
    logFile: join(dir, "postgres.log"),
  };
  mkdirSync(layout.socketDir);
  giveTo(account, dir, layout.socketDir);
  return layout;
}

async function initDataDir(layout: Layout): Promise<void> {
  const initdb = join(layout.binDir, "initdb");
  await runCommand(layout.account, initdb, [
    "-D",
    layout.dataDir,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "-N",
  ]);
  // Durability is pointless for data deleted after the test, and costs seconds per server.
  const settings = {
    listen_addresses: HOST,
    unix_socket_directories: layout.socketDir,
    fsync: "off",
    full_page_writes: "off",
    synchronous_commit: "off",
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key} = '${value.replaceAll("'", "''")}'`);
  appendFileSync(
    join(layout.dataDir, "postgresql.conf"),
    `\n# added by @pwdr/test-harness\n${lines.join("\n")}\n`,
  );
}

/** Another process can grab the probed port before the postmaster binds it; then try another. */
async function startOnFreePort(layout: Layout): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await pgCtlStart(layout, port);
      await waitForConnections(layout, port);
      return port;
    } catch (error) {
      const portTaken =
        error instanceof ServerStartError && /could not bind|Address already in use/.test(error.message);
      if (!portTaken || attempt === PORT_ATTEMPTS) throw error;
    }
  }
}

async function pgCtlStart(layout: Layout, port: number): Promise<void> {
  const pgCtl = join(layout.binDir, "pg_ctl");
  const args = [
    "start",
    "-D",
    layout.dataDir,
    "-l",
    layout.logFile,
    "-w",
    "-t",
    String(READY_TIMEOUT_MS / 1000),
    "-o",
    `-p ${port}`,
  ];
  try {
    await runCommand(layout.account, pgCtl, args);
  } catch (error) {
    throw new ServerStartError(`PostgreSQL did not start on ${HOST}:${port}`, logTail(layout.logFile), {
      cause: error,
    });
  }
}

async function waitForConnections(layout: Layout, port: number): Promise<void> {
  const ready = await waitUntil(async () => {
    await query(connectionUrl(port, "postgres"), "SELECT 1");
    return true;
  }, READY_TIMEOUT_MS);
  if (!ready) {
    throw new ServerStartError(
      `PostgreSQL on ${HOST}:${port} accepted no connection within ${READY_TIMEOUT_MS} ms`,
      logTail(layout.logFile),
    );
  }
}

async function majorVersion(binDir: string): Promise<number> {
  const output = await runCommand(null, join(binDir, "pg_ctl"), ["--version"]);
  return Number(/\(PostgreSQL\) (\d+)/.exec(output)?.[1]);
}

function describeServer(
  layout: Layout,
  port: number,
  version: number,
  stop: () => Promise<void>,
): PostgresServer {
  const urlFor = (database: string) => connectionUrl(port, database);
  return {
    host: HOST,
    port,
    url: urlFor("postgres"),
    urlFor,
    binDir: layout.binDir,
    dir: layout.dir,
    dataDir: layout.dataDir,
    socketDir: layout.socketDir,
    logFile: layout.logFile,
    version,
    createDatabase: async (name) => {
      if (name === "" || name.includes("\0"))
        throw new InvalidOptionsError(`invalid database name ${JSON.stringify(name)}`);
      await query(urlFor("postgres"), `CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      return urlFor(name);
    },
    stop,
  };
}

function connectionUrl(port: number, database: string): string {
  return `postgresql://postgres@${HOST}:${port}/${encodeURIComponent(database)}`;
}

async function query(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  // Without a listener, a server shutting down mid-query would crash the test process.
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query(sql);
  } finally {
    await client.end().catch(() => {});
  }
}
