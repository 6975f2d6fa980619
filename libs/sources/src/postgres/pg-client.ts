import type pg from "pg";
import { clientConfig, type PgConnection } from "./pg-connection.js";
import { connectFailed } from "./pg-errors.js";

/** A connected client; connection failures become redacted `source_failed` errors. */
export async function connect(conn: PgConnection, database: string): Promise<pg.Client> {
  // Loaded on first use: most of what loads this module never connects.
  const { Client } = (await import("pg")).default;
  const client = new Client(clientConfig(conn, database));
  // A server that goes away mid-dump emits 'error' on an idle client; the pending query reports it.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw connectFailed(conn, database, err);
  }
  return client;
}

export async function withClient<T>(
  conn: PgConnection,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(conn, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Double-quotes an identifier for SQL and for pg_dump's -t patterns (where quoting makes it literal). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export async function serverVersion(client: pg.Client): Promise<{ version: string; num: number }> {
  const r = await client.query<{ v: string; n: string }>(
    "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
  );
  const row = r.rows[0];
  return { version: row?.v ?? "unknown", num: Number(row?.n) };
}
