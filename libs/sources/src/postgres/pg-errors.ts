import { RepoError } from "@pwdr/repo";
import { describeServer, type PgConnection } from "./pg-connection.js";
import { redact } from "./pg-redact.js";

/** A `source_failed` error whose message is redacted; the cause is dropped as it may hold the password. */
export function sourceFailed(conn: PgConnection, message: string): RepoError {
  return new RepoError("source_failed", redact(message, conn));
}

export function invalidArgument(conn: PgConnection, message: string): RepoError {
  return new RepoError("invalid_argument", redact(message, conn));
}

/** Turns a `pg` connection failure into advice: the usual causes are the address and the credentials. */
export function connectFailed(conn: PgConnection, database: string, err: unknown): RepoError {
  const e = err as { code?: string; message?: string };
  const reason = e.message ?? String(err);
  const hint =
    e.code === "28P01" || e.code === "28000"
      ? "check the user and password in the PostgreSQL source settings"
      : e.code === "3D000"
        ? "check the database name"
        : "check that PostgreSQL is running and that host and port are right";
  return sourceFailed(
    conn,
    `cannot connect to PostgreSQL ${describeServer(conn)} database "${database}": ${reason}; ${hint}`,
  );
}
