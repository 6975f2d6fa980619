import { Backup, type BackupResult, type Repository } from "@pwdr/repo";
import { backupConfig } from "../config/backup-config.js";
import type { ConfigBackupOptions } from "../config/config-types.js";
import type { SourceBackupResult, SourceProgress } from "../source.js";

export interface ConfigRun {
  backup: BackupResult;
  source: SourceBackupResult;
  logs: string[];
  progress: SourceProgress[];
}

/** One Backup for the config source, as a caller runs it; aborted (no snapshot) when the source fails. */
export async function configBackupRun(
  repo: Repository,
  options: ConfigBackupOptions,
  logs: string[] = [],
): Promise<ConfigRun> {
  const meta: Record<string, unknown> = {};
  const progress: SourceProgress[] = [];
  const backup = await Backup.start(repo, {
    source: { kind: "config", name: "config" },
    meta,
    host: "pi-test",
  });
  try {
    const source = await backupConfig(
      { backup, onProgress: (p) => progress.push(p) },
      { ...options, log: (line) => logs.push(line) },
    );
    Object.assign(meta, { version: source.version, counts: source.counts, ...source.meta });
    return { backup: await backup.finish(), source, logs, progress };
  } catch (err) {
    await backup.abort();
    throw err;
  }
}
