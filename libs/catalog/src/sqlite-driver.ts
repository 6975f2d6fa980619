import { createRequire } from "node:module";

// better-sqlite3 ships no types and @types/better-sqlite3 is not a dependency:
// these are the parts the migrator uses. A local interface rather than an ambient
// `declare module`, which would leak into (and clash in) every consumer's program.

export interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
  /** Makes get/all return the first column instead of row objects. */
  pluck(): SqliteStatement;
}

export interface SqliteDatabase {
  readonly inTransaction: boolean;
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  pragma(source: string): unknown;
  close(): void;
}

type SqliteConstructor = new (file: string, options: { timeout: number }) => SqliteDatabase;

const Database = createRequire(import.meta.url)("better-sqlite3") as SqliteConstructor;

/** Opens (creating if needed) a SQLite file; `timeout` is how long to wait for a lock, in ms. */
export function openSqlite(file: string, options: { timeout: number }): SqliteDatabase {
  return new Database(file, options);
}
