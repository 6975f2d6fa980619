// Backup sources of a PiWardrive host: PostgreSQL, Redis, configuration and
// application data. Each writes one snapshot per backup run and restores it,
// verifying against the counts it recorded.

export {
  backupConfig,
  type CertificateRecord,
  CONFIG_FORMAT_VERSION,
  type ConfigBackupOptions,
  type ConfigBackupRecord,
  type ConfigRestoreOptions,
  type ConfigRestoreResult,
  restoreConfig,
} from "./config/index.js";
export {
  backupFileTree,
  FILES_FORMAT_VERSION,
  type FileTreeBackupOptions,
  type FileTreeBackupRecord,
  fileTreeBackupOptions,
  restoreFileTree,
} from "./files/index.js";
export {
  backupPostgres,
  type PgConnection,
  type PgDatabaseManifest,
  type PgManifest,
  type PgTableManifest,
  type PostgresBackupOptions,
  type PostgresRestoreOptions,
  type PostgresRestoreResult,
  redact,
  restorePostgres,
} from "./postgres/index.js";
export { backupRedisFiles, type RedisFileBackupOptions } from "./redis/backup-files.js";
export { backupRedisLogical, type RedisLogicalBackupOptions } from "./redis/backup-logical.js";
export type { RedisConnection } from "./redis/connection.js";
export { type RedisBackupRecord, SNAPSHOT_PATHS as REDIS_SNAPSHOT_PATHS } from "./redis/record.js";
export {
  type RedisFileRestoreOptions,
  type RedisRestoreResult,
  restoreRedisFiles,
} from "./redis/restore-files.js";
export { type RedisLogicalRestoreOptions, restoreRedisLogical } from "./redis/restore-logical.js";
export type { AofHandling } from "./redis/restore-plan.js";
export type { RedisTimingOptions } from "./redis/timing.js";
export type {
  SourceBackupContext,
  SourceBackupResult,
  SourceKind,
  SourceProgress,
  SourceRestoreContext,
} from "./source.js";
export {
  mapPath,
  pathMapEntries,
  type TreeRestoreOptions,
  type TreeRestoreResult,
} from "./tree/restore-tree.js";
