import { Backup, type BackupResult, listSnapshots, type Repository } from "@pwdr/repo";
import { backupPostgres, type PostgresBackupOptions } from "../postgres/backup-postgres.js";
import type { SourceBackupResult } from "../source.js";

/**
 * What a caller does: one Backup per source run, with the source's latest
 * snapshot as parent, aborted when the source fails so no snapshot is
 * written. The source's counts go into the snapshot's meta (the meta object
 * is read when the Backup finishes).
 */
export async function pgBackupRun(
  repo: Repository,
  options: PostgresBackupOptions & { counts?: Record<string, number> },
): Promise<{ backup: BackupResult; source: SourceBackupResult }> {
  const meta: Record<string, unknown> = {};
  const source = { kind: "postgres", name: "postgres" };
  const parent = (await listSnapshots(repo, { host: "pi-test", source: source.name })).at(-1);
  const backup = await Backup.start(repo, { source, meta, host: "pi-test", ...(parent ? { parent } : {}) });
  try {
    const result = await backupPostgres({ backup }, options);
    // `counts` overrides recorded counts, to test that restore verifies against meta.
    Object.assign(meta, { version: result.version, counts: { ...result.counts, ...options.counts } });
    return { backup: await backup.finish(), source: result };
  } catch (err) {
    await backup.abort();
    throw err;
  }
}
