import type { PgConnection } from "./pg-connection.js";
import { invalidArgument } from "./pg-errors.js";
import { runTool } from "./pg-tool.js";

/** The major version a client tool reports ("pg_dump (PostgreSQL) 15.4" → 15). */
export async function toolMajor(conn: PgConnection, tool: string): Promise<number> {
  const out = await runTool({
    conn,
    tool,
    args: ["--version"],
    database: "postgres",
    what: `${tool} --version`,
  });
  const major = Number(/\(PostgreSQL\)\s+(\d+)/.exec(out)?.[1]);
  if (!Number.isInteger(major)) {
    throw invalidArgument(conn, `${tool} --version printed "${out.trim()}", not a PostgreSQL version`);
  }
  return major;
}

/**
 * pg_dump refuses servers newer than itself only once connected, and an old
 * pg_restore cannot read a newer archive: check before any data moves.
 */
export async function requireToolFor(conn: PgConnection, tool: string, serverMajor: number): Promise<void> {
  const major = await toolMajor(conn, tool);
  if (major < serverMajor) {
    throw invalidArgument(
      conn,
      `${tool} is PostgreSQL ${major} but the server is PostgreSQL ${serverMajor}; ` +
        `install the PostgreSQL ${serverMajor} client tools and point binDir at them`,
    );
  }
}

/** server_version_num 150004 → 15. */
export function serverMajor(versionNum: number): number {
  return Math.floor(versionNum / 10_000);
}
