// The CI guard "schema changed without a migration", and the proof that the
// history openCatalog writes is the one Prisma's own schema engine expects.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SchemaContainer } from "@prisma/schema-engine-wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkDrift,
  type DriftReport,
  filters,
  migrationList,
  readSchemaFiles,
  withSchemaEngine,
} from "../scripts/schema-engine.js";
import type { Provider } from "./catalog-url.js";
import { migrationsDir } from "./migration-files.js";
import { openCatalog } from "./open-catalog.js";
import { type TestDatabases, testDatabases } from "./test-support/test-databases.js";

const providers: Provider[] = ["sqlite", "postgres"];

describe.each(providers)("schema and migrations on %s", (provider) => {
  const schemaDir = fileURLToPath(new URL(`../prisma/${provider}`, import.meta.url));
  const migrations = migrationsDir(provider);
  let databases: TestDatabases;
  let scratch: string;

  async function drift(schemaFiles: SchemaContainer[]): Promise<DriftReport> {
    const url = await databases.fresh();
    return withSchemaEngine({ url, schemaFiles }, (engine) => checkDrift(engine, migrations, schemaFiles));
  }

  beforeAll(async () => {
    databases = await testDatabases[provider]();
    scratch = mkdtempSync(path.join(tmpdir(), "pwdr-schema-"));
  });

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await databases?.stop();
  });

  it("has a migration for every schema change", async () => {
    const report = await drift(readSchemaFiles(schemaDir));
    expect(report.inSync, report.summary).toBe(true);
  });

  it("catches a schema change that has no migration", async () => {
    const schemaFiles = readSchemaFiles(schemaDir).map((file) => {
      const copy = path.join(scratch, path.basename(file.path));
      const content = file.content.replace("model Host {\n", "model Host {\n  driftProbe String?\n");
      writeFileSync(copy, content);
      return { path: copy, content };
    });
    expect(schemaFiles.some((file) => file.content.includes("driftProbe"))).toBe(true);
    const report = await drift(schemaFiles);
    expect(report.inSync).toBe(false);
    expect(report.summary).toContain("driftProbe");
  });

  it("leaves a migration history that Prisma's schema engine accepts", async () => {
    const url = await databases.fresh();
    const catalog = await openCatalog({ url });
    await catalog.close();
    await withSchemaEngine({ url, schemaFiles: readSchemaFiles(schemaDir) }, async (engine) => {
      const status = await engine.diagnoseMigrationHistory({
        migrationsList: migrationList(migrations),
        optInToShadowDatabase: false,
        filters,
      });
      expect(status).toMatchObject({
        history: null,
        failedMigrationNames: [],
        editedMigrationNames: [],
        hasMigrationsTable: true,
      });
      const deploy = await engine.applyMigrations({ migrationsList: migrationList(migrations), filters });
      expect(deploy.appliedMigrationNames).toEqual([]);
    });
  });

  it("continues a history written by Prisma's schema engine", async () => {
    const url = await databases.fresh();
    await withSchemaEngine({ url, schemaFiles: readSchemaFiles(schemaDir) }, (engine) =>
      engine.applyMigrations({ migrationsList: migrationList(migrations), filters }),
    );
    const catalog = await openCatalog({ url });
    expect(catalog.appliedMigrations).toEqual([]);
    await catalog.close();
  });
});
