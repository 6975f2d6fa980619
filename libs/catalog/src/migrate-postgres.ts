import { randomUUID } from "node:crypto";
import pg from "pg";
import { MigrationFailedError, MigrationLockTimeoutError, NonEmptyDatabaseError } from "./errors.js";
import type { MigrationFile } from "./migration-files.js";
import { type AppliedMigration, pendingMigrations } from "./migration-plan.js";

// Prisma Migrate's own advisory lock key: replicas starting together, and a
// `prisma migrate deploy` run by an operator, exclude each other.
const MIGRATION_LOCK_KEY = 72707369;
const LOCK_WAIT_S = 60;
const LOCK_NOT_AVAILABLE = "55P03";

// Prisma's own DDL, so that the Prisma CLI reads and continues this history.
const HISTORY_TABLE = `CREATE TABLE _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Applies the pending migrations to a PostgreSQL catalog under Prisma's advisory
 * lock, all in one transaction (PostgreSQL DDL is transactional): an upgrade
 * either completes or leaves the catalog as it was. Tables live in `schema`.
 */
export async function migratePostgres(
  url: string,
  schema: string,
  migrations: readonly MigrationFile[],
  log: (line: string) => void,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  // A dropped connection also rejects the pending query, which reports it;
  // without a listener the 'error' event would crash the process.
  client.on("error", () => {});
  await client.connect();
  try {
    // Session-level: released when the session ends below, however this ends.
    await lock(client);
    await useSchema(client, schema);
    return await inTransaction(client, async () => {
      const pending = pendingMigrations(migrations, await readHistory(client, schema));
      for (const migration of pending) {
        log(`catalog: applying migration ${migration.name}`);
        await apply(client, migration);
      }
      return pending.map((migration) => migration.name);
    });
  } finally {
    await client.end();
  }
}

async function inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}

async function lock(client: pg.Client): Promise<void> {
  await client.query(`SET lock_timeout = '${LOCK_WAIT_S}s'`);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
  } catch (error) {
    if ((error as { code?: string }).code === LOCK_NOT_AVAILABLE) {
      throw new MigrationLockTimeoutError(
        LOCK_WAIT_S,
        `end the session holding it (pg_locks: locktype advisory, objid ${MIGRATION_LOCK_KEY})`,
      );
    }
    throw error;
  }
  await client.query("RESET lock_timeout");
}

async function useSchema(client: pg.Client, schema: string): Promise<void> {
  const name = quoteIdentifier(schema);
  // Only when missing: CREATE SCHEMA IF NOT EXISTS still needs the CREATE privilege.
  const found = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
  if (found.rowCount === 0) await client.query(`CREATE SCHEMA ${name}`);
  await client.query(`SET search_path TO ${name}`);
}

async function readHistory(client: pg.Client, schema: string): Promise<AppliedMigration[]> {
  const tables = await client.query<{ tablename: string }>(
    "SELECT tablename FROM pg_tables WHERE schemaname = $1",
    [schema],
  );
  const names = tables.rows.map((row) => row.tablename);
  if (!names.includes("_prisma_migrations")) {
    if (names.length > 0) throw new NonEmptyDatabaseError(names);
    await client.query(HISTORY_TABLE);
    return [];
  }
  const rows = await client.query<AppliedMigration>(
    `SELECT migration_name AS name, checksum, finished_at IS NOT NULL AS finished
     FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY started_at`,
  );
  return rows.rows;
}

async function apply(client: pg.Client, migration: MigrationFile): Promise<void> {
  const startedAt = new Date();
  try {
    // Without parameters node-postgres uses the simple query protocol, which
    // runs a multi-statement script.
    await client.query(migration.sql);
  } catch (error) {
    throw new MigrationFailedError(migration.name, error);
  }
  await client.query(
    `INSERT INTO _prisma_migrations
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     VALUES ($1, $2, clock_timestamp(), $3, NULL, NULL, $4, 1)`,
    [randomUUID(), migration.checksum, migration.name, startedAt],
  );
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
