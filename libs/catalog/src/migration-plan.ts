import { EditedMigrationError, IncompleteMigrationError, UnknownMigrationError } from "./errors.js";
import { checksumMatches, type MigrationFile } from "./migration-files.js";

/** A row of `_prisma_migrations` that was not rolled back. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly finished: boolean;
}

/**
 * The migrations still to apply, in order. Refuses a history this build cannot
 * safely continue: migrations it does not know (a newer controller ran), a
 * migration whose file changed after it was applied, or one that never finished.
 */
export function pendingMigrations(
  local: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
): MigrationFile[] {
  const byName = new Map(local.map((migration) => [migration.name, migration]));
  const unknown = applied.filter((row) => !byName.has(row.name)).map((row) => row.name);
  if (unknown.length > 0) throw new UnknownMigrationError(unknown);
  for (const row of applied) {
    if (!row.finished) throw new IncompleteMigrationError(row.name);
    const file = byName.get(row.name);
    if (file && !checksumMatches(row.checksum, file)) throw new EditedMigrationError(row.name);
  }
  const done = new Set(applied.map((row) => row.name));
  return local.filter((migration) => !done.has(migration.name));
}
