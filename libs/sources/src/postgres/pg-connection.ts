import type { ClientConfig } from "pg";

/** Where and as whom to reach the server; `binDir` holds pg_dump & co. (PATH when omitted). */
export interface PgConnection {
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Maintenance database to connect to for catalog queries; "postgres" when omitted. */
  database?: string;
  binDir?: string;
}

export const CONNECT_TIMEOUT_MS = 10_000;

export function maintenanceDatabase(conn: PgConnection): string {
  return conn.database ?? "postgres";
}

/** For the `pg` client: the password goes in the config object, never into a URL that could be logged. */
export function clientConfig(conn: PgConnection, database: string): ClientConfig {
  return {
    host: conn.host,
    port: conn.port,
    user: conn.user,
    database,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    ...(conn.password === undefined ? {} : { password: conn.password }),
  };
}

/**
 * The environment of a client tool: connection settings through libpq's
 * variables, so nothing secret is in argv (visible in `ps`). Inherited PG*
 * variables are dropped so they cannot redirect the tool elsewhere.
 */
export function toolEnv(conn: PgConnection, database: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("PG")) env[key] = value;
  env.PGHOST = conn.host;
  env.PGPORT = String(conn.port);
  env.PGUSER = conn.user;
  env.PGDATABASE = database;
  env.PGCONNECT_TIMEOUT = String(CONNECT_TIMEOUT_MS / 1000);
  if (conn.password !== undefined) env.PGPASSWORD = conn.password;
  return env;
}

/** A libpq connection string naming only the database (never a password), for `-d`. */
export function dbnameArg(database: string): string {
  return `dbname='${database.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/** "user@host:port" for messages. */
export function describeServer(conn: PgConnection): string {
  return `${conn.user}@${conn.host}:${conn.port}`;
}
