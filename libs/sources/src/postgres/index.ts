// PostgreSQL source: streamed pg_dump per table from one exported snapshot, restored with pg_restore.
export { backupPostgres, type PostgresBackupOptions } from "./backup-postgres.js";
export type { PgConnection } from "./pg-connection.js";
export type { PgDatabaseManifest, PgManifest, PgTableManifest } from "./pg-manifest.js";
export { redact } from "./pg-redact.js";
export {
  type PostgresRestoreOptions,
  type PostgresRestoreResult,
  restorePostgres,
} from "./restore-postgres.js";
