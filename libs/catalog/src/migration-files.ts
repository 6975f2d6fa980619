import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Provider } from "./catalog-url.js";
import { MigrationsNotFoundError } from "./errors.js";

/** One committed migration: prisma/<provider>/migrations/<name>/migration.sql. */
export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  /** SHA-256 of the file's bytes, lowercase hex, as Prisma records it. */
  readonly checksum: string;
}

/** The provider's migrations folder, shipped with the package. */
export function migrationsDir(provider: Provider): string {
  // Resolved from this module's location so it works from src/ (development)
  // and dist/ (build) alike: both sit directly under the package root.
  return fileURLToPath(new URL(`../prisma/${provider}/migrations`, import.meta.url));
}

/** The migrations in `dir`, in the order Prisma applies them (by folder name). */
export function readMigrations(dir: string): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationsNotFoundError(dir);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readMigration(path.join(dir, name, "migration.sql"), name));
}

function readMigration(file: string, name: string): MigrationFile {
  if (!existsSync(file)) throw new MigrationsNotFoundError(file);
  const bytes = readFileSync(file);
  return { name, sql: bytes.toString("utf8"), checksum: sha256Hex(bytes) };
}

/**
 * Whether a recorded checksum still matches the file. Like Prisma, line-ending
 * conversions (a checkout with git autocrlf) do not count as an edit.
 */
export function checksumMatches(recorded: string, migration: MigrationFile): boolean {
  const lf = migration.sql.replaceAll("\r\n", "\n");
  return [migration.checksum, sha256Hex(lf), sha256Hex(lf.replaceAll("\n", "\r\n"))].includes(recorded);
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
