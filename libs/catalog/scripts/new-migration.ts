/**
 * Adds a migration for a change to prisma/shared/models.prisma to BOTH providers'
 * folders, under the same name, without any database set up by hand: throwaway
 * databases (a temp SQLite file, a PostgreSQL from @pwdr/test-harness) get the
 * existing migrations, then the engine writes the SQL for what the schema adds.
 *
 * Usage: tsx scripts/new-migration.ts --name <snake_case_name>
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startPostgres } from "@pwdr/test-harness";
import type { Provider } from "../src/catalog-url.js";
import { migrationsDir } from "../src/migration-files.js";
import { filters, migrationList, readSchemaFiles, withSchemaEngine } from "./schema-engine.js";

const root = path.resolve(import.meta.dirname, "..");

/** The migration SQL for the schema changes not yet in the provider's migrations, or null. */
async function draftMigration(provider: Provider, url: string, name: string): Promise<string | null> {
  const schema = { files: readSchemaFiles(path.join(root, "prisma", provider)) };
  const migrationsList = () => migrationList(migrationsDir(provider));
  return withSchemaEngine({ url, schemaFiles: schema.files }, async (engine) => {
    await engine.applyMigrations({ migrationsList: migrationsList(), filters });
    // As `prisma migrate dev` does; without it the wasm engine's
    // evaluateDataLoss fails with "SQLite shadow DB must be provided".
    await engine.devDiagnostic({ migrationsList: migrationsList(), filters });
    const loss = await engine.evaluateDataLoss({ migrationsList: migrationsList(), schema, filters });
    for (const warning of loss.warnings) console.warn(`${provider}: warning: ${warning.message}`);
    for (const step of loss.unexecutableSteps)
      console.warn(`${provider}: fails on existing data: ${step.message}`);
    const out = await engine.createMigration({
      draft: false,
      migrationName: name,
      migrationsList: migrationsList(),
      schema,
      filters,
    });
    return out.migrationScript;
  });
}

function writeMigration(provider: Provider, folder: string, sql: string): void {
  const dir = path.join(migrationsDir(provider), folder);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "migration.sql"), sql);
  console.log(`Created ${path.relative(root, dir)}/migration.sql`);
}

// Prisma's folder naming: UTC yyyyMMddHHmmss_<name>.
function folderName(name: string): string {
  return `${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${name}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: "string" } } });
  const name = values.name ?? "";
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error("usage: new-migration.ts --name <snake_case_name>");
  const scratch = mkdtempSync(path.join(tmpdir(), "pwdr-new-migration-"));
  const postgres = await startPostgres();
  try {
    const sql = {
      sqlite: await draftMigration("sqlite", `file:${path.join(scratch, "catalog.db")}`, name),
      postgres: await draftMigration("postgres", await postgres.createDatabase("catalog"), name),
    };
    if (sql.sqlite === null || sql.postgres === null) {
      // Both schemas share one models file, so they change together.
      if (sql.sqlite !== sql.postgres)
        throw new Error("Only one provider's migrations lack a change: check them.");
      console.log("The schema and the migrations are in sync; no migration created.");
      return;
    }
    const folder = folderName(name);
    writeMigration("sqlite", folder, sql.sqlite);
    writeMigration("postgres", folder, sql.postgres);
    console.log("Review both files, then run the tests (npx vitest run).");
  } finally {
    await postgres.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  // The wasm engine can leave a ~60 s timer pending after its last command.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
