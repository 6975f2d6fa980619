import { randomUUID } from "node:crypto";
import { MigrationFailedError, MigrationLockTimeoutError, NonEmptyDatabaseError } from "./errors.js";
import type { MigrationFile } from "./migration-files.js";
import { type AppliedMigration, pendingMigrations } from "./migration-plan.js";
import { openSqlite, type SqliteDatabase } from "./sqlite-driver.js";

const LOCK_WAIT_MS = 60_000;
const BUSY_RETRY_MS = 20;

// Prisma's own DDL, so that the Prisma CLI reads and continues this history.
const HISTORY_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/**
 * Applies the pending migrations to a SQLite catalog file, all in one immediate
 * transaction: it holds the database's write lock, so a second process starting
 * at the same time waits and then finds nothing to do; a failure changes nothing.
 */
export function migrateSqlite(
  file: string,
  migrations: readonly MigrationFile[],
  log: (line: string) => void,
): string[] {
  const db = openSqlite(file, { timeout: LOCK_WAIT_MS });
  try {
    // Prisma's SQLite migrations rebuild tables (copy into a new table, drop the
    // old one); with foreign keys on, that DROP would cascade-delete child rows.
    // Integrity is checked before commit instead.
    db.pragma("foreign_keys = OFF");
    waitForLock(() => {
      // Readers (API, dashboard) keep working while the scheduler writes; the
      // mode is stored in the file, and switching to it needs the lock too.
      db.pragma("journal_mode = WAL");
      db.exec("BEGIN IMMEDIATE");
    });
    return applyLocked(db, migrations, log);
  } finally {
    db.close();
  }
}

function applyLocked(
  db: SqliteDatabase,
  migrations: readonly MigrationFile[],
  log: (line: string) => void,
): string[] {
  try {
    const pending = pendingMigrations(migrations, readHistory(db));
    for (const migration of pending) {
      log(`catalog: applying migration ${migration.name}`);
      apply(db, migration);
    }
    const last = pending.at(-1);
    if (last) assertForeignKeys(db, last);
    db.exec("COMMIT");
    return pending.map((migration) => migration.name);
  } catch (error) {
    // Some errors (e.g. disk full) already ended the transaction.
    if (db.inTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

// better-sqlite3 waits up to its `timeout` for a lock, then throws SQLITE_BUSY.
// SQLite skips that wait where waiting could deadlock, as when two connections
// switch to WAL at once: retry until the deadline.
function waitForLock(take: () => void): void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      take();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      if (Date.now() >= deadline) {
        throw new MigrationLockTimeoutError(
          LOCK_WAIT_MS / 1000,
          "another process keeps the SQLite catalog locked; find it with `fuser <catalog file>`",
        );
      }
      sleepSync(BUSY_RETRY_MS);
    }
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readHistory(db: SqliteDatabase): AppliedMigration[] {
  if (!hasTable(db, "_prisma_migrations")) {
    assertEmpty(db);
    db.exec(HISTORY_TABLE);
    return [];
  }
  const rows = db
    .prepare(
      `SELECT migration_name AS name, checksum, finished_at IS NOT NULL AS finished
       FROM _prisma_migrations WHERE rolled_back_at IS NULL ORDER BY started_at`,
    )
    .all() as { name: string; checksum: string; finished: number }[];
  return rows.map((row) => ({ ...row, finished: row.finished === 1 }));
}

function hasTable(db: SqliteDatabase, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

function assertEmpty(db: SqliteDatabase): void {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
    .pluck()
    .all() as string[];
  if (tables.length > 0) throw new NonEmptyDatabaseError(tables);
}

function apply(db: SqliteDatabase, migration: MigrationFile): void {
  const startedAt = timestamp();
  try {
    db.exec(migration.sql);
  } catch (error) {
    throw new MigrationFailedError(migration.name, error);
  }
  db.prepare(
    `INSERT INTO _prisma_migrations
       (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
     VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)`,
  ).run(randomUUID(), migration.checksum, timestamp(), migration.name, startedAt);
}

function assertForeignKeys(db: SqliteDatabase, last: MigrationFile): void {
  const violations = db.pragma("foreign_key_check") as { table: string }[];
  if (violations.length > 0) {
    const tables = [...new Set(violations.map((row) => row.table))].join(", ");
    throw new MigrationFailedError(last.name, `foreign key violations in ${tables}`);
  }
}

// The format Prisma's schema engine writes (RFC 3339, milliseconds, +00:00).
function timestamp(): string {
  return new Date().toISOString().replace("Z", "+00:00");
}
