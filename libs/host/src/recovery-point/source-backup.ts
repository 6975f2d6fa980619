import type { Backup, BackupOptions } from "@pwdr/repo";
import {
  backupConfig,
  backupFileTree,
  backupPostgres,
  backupRedisFiles,
  backupRedisLogical,
  fileTreeBackupOptions,
  type SourceBackupResult,
  type SourceProgress,
} from "@pwdr/sources";
import { postgresConnection, redisConnection } from "../definition/connections.js";
import type { SourceDefinition } from "../definition/host-definition.js";

/** Options of the Backup a source needs at its start (the archiver filters while it walks). */
export function backupOptionsFor(def: SourceDefinition): Partial<BackupOptions> {
  return def.kind === "files" ? fileTreeBackupOptions(def) : {};
}

/** Runs one source's backup into `backup`; log lines carry no secrets. */
export async function backupSource(
  backup: Backup,
  def: SourceDefinition,
  onProgress: (p: SourceProgress) => void,
  log: (line: string) => void,
): Promise<SourceBackupResult> {
  const ctx = { backup, onProgress };
  switch (def.kind) {
    case "postgres":
      return backupPostgres(ctx, { connection: await postgresConnection(def), databases: def.databases });
    case "redis": {
      const connection = await redisConnection(def);
      if (def.mode === "logical") return backupRedisLogical(ctx, { connection });
      return backupRedisFiles(ctx, { connection, ...(def.dataDir ? { dataDir: def.dataDir } : {}) });
    }
    case "config":
      return backupConfig(ctx, {
        paths: def.paths,
        optionalPaths: def.optionalPaths,
        exclude: def.exclude,
        expiryWarningDays: def.expiryWarningDays,
        log,
      });
    case "files":
      return backupFileTree(ctx, def);
  }
}
