import type { CatalogTarget } from "./catalog-url.js";
import { migratePostgres } from "./migrate-postgres.js";
import { migrateSqlite } from "./migrate-sqlite.js";
import { type MigrationFile, migrationsDir, readMigrations } from "./migration-files.js";

/**
 * Brings the catalog up to this build's schema with the migrations committed in
 * prisma/<provider>/migrations (the same files `prisma migrate deploy` would run),
 * without the Prisma CLI. Returns the names of the migrations it applied.
 */
export function applyMigrations(target: CatalogTarget, log: (line: string) => void): Promise<string[]> {
  return migrateCatalog(target, readMigrations(migrationsDir(target.provider)), log);
}

/** Applies whichever of `migrations` the catalog lacks, atomically: all of them or none. */
export async function migrateCatalog(
  target: CatalogTarget,
  migrations: readonly MigrationFile[],
  log: (line: string) => void,
): Promise<string[]> {
  return target.provider === "sqlite"
    ? migrateSqlite(target.file, migrations, log)
    : migratePostgres(target.url, target.schema, migrations, log);
}
