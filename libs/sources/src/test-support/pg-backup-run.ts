import { Backup, type BackupResult, type Repository } from "@pwdr/repo";
import { backupPostgres, type PostgresBackupOptions } from "../postgres/backup-postgres.js";
import type { SourceBackupResult } from "../source.js";

/**
 * What a caller does: one Backup per source run, aborted when the source
 * fails so no snapshot is written. The source's counts go into the
 * snapshot's meta (the meta object is read when the Backup finishes).
 */
export async function pgBackupRun(
  repo: Repository,
  options: PostgresBackupOptions & { counts?: Record<string, number> },
): Promise<{ backup: BackupResult; source: SourceBackupResult }> {
  const meta: Record<string, unknown> = {};
  const backup = await Backup.start(repo, {
    source: { kind: "postgres", name: "postgres" },
    meta,
    host: "pi-test",
  });
  try {
    const source = await backupPostgres({ backup }, options);
    // `counts` overrides recorded counts, to test that restore verifies against meta.
    Object.assign(meta, { version: source.version, counts: { ...source.counts, ...options.counts } });
    return { backup: await backup.finish(), source };
  } catch (err) {
    await backup.abort();
    throw err;
  }
}
