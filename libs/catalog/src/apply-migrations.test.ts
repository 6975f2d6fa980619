// The migrator on small synthetic histories: what real upgrades will do to a catalog.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateCatalog } from "./apply-migrations.js";
import { type Provider, parseCatalogUrl } from "./catalog-url.js";
import { MigrationFailedError } from "./errors.js";
import type { MigrationFile } from "./migration-files.js";
import { rawExec, rawQuery } from "./test-support/raw-sql.js";
import { type TestDatabases, testDatabases } from "./test-support/test-databases.js";

const providers: Provider[] = ["sqlite", "postgres"];
const quiet = () => {};

function migration(name: string, sql: string): MigrationFile {
  return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
}

const createParent = migration(
  "20240101000000_parent",
  `CREATE TABLE "Parent" ("id" TEXT NOT NULL PRIMARY KEY, "note" TEXT);
   CREATE TABLE "Child" ("id" TEXT NOT NULL PRIMARY KEY, "parentId" TEXT NOT NULL,
     CONSTRAINT "Child_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Parent" ("id") ON DELETE CASCADE);`,
);

describe.each(providers)("migrating a %s catalog", (provider) => {
  let databases: TestDatabases;

  beforeAll(async () => {
    databases = await testDatabases[provider]();
  });

  afterAll(async () => {
    await databases?.stop();
  });

  it("applies only what is new, in order", async () => {
    const target = parseCatalogUrl(await databases.fresh());
    const addIndex = migration(
      "20240102000000_index",
      `CREATE INDEX "Child_parentId_idx" ON "Child"("parentId");`,
    );
    expect(await migrateCatalog(target, [createParent], quiet)).toEqual([createParent.name]);
    expect(await migrateCatalog(target, [createParent, addIndex], quiet)).toEqual([addIndex.name]);
  });

  it("rolls the whole upgrade back when a migration fails", async () => {
    const url = await databases.fresh();
    const target = parseCatalogUrl(url);
    const broken = migration(
      "20240102000000_broken",
      `CREATE TABLE "Other" ("id" TEXT); SELECT * FROM "Missing";`,
    );
    const error = await migrateCatalog(target, [createParent, broken], quiet).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect(error).toMatchObject({ code: "CATALOG_MIGRATION_FAILED", migration: broken.name });
    // Nothing of the run remains: the fixed build starts from scratch.
    expect(await migrateCatalog(target, [createParent], quiet)).toEqual([createParent.name]);
    await expect(rawExec(url, `SELECT * FROM "Other"`)).rejects.toThrow();
  });

  it.runIf(provider === "sqlite")(
    "keeps child rows when a migration rebuilds their parent table",
    async () => {
      const url = await databases.fresh();
      const target = parseCatalogUrl(url);
      await migrateCatalog(target, [createParent], quiet);
      await rawExec(url, `INSERT INTO "Parent" VALUES ('p', NULL); INSERT INTO "Child" VALUES ('c', 'p');`);
      // What Prisma generates for SQLite when a column changes (RedefineTables). Run
      // with foreign keys on, its DROP TABLE would cascade and delete the child rows.
      const rebuild = migration(
        "20240102000000_note_required",
        `PRAGMA defer_foreign_keys=ON;
       PRAGMA foreign_keys=OFF;
       CREATE TABLE "new_Parent" ("id" TEXT NOT NULL PRIMARY KEY, "note" TEXT NOT NULL DEFAULT '');
       INSERT INTO "new_Parent" ("id", "note") SELECT "id", coalesce("note", '') FROM "Parent";
       DROP TABLE "Parent";
       ALTER TABLE "new_Parent" RENAME TO "Parent";
       PRAGMA foreign_keys=ON;
       PRAGMA defer_foreign_keys=OFF;`,
      );
      await migrateCatalog(target, [createParent, rebuild], quiet);
      expect(await rawQuery(url, `SELECT "parentId" FROM "Child"`)).toEqual([{ parentId: "p" }]);
    },
  );

  it.runIf(provider === "sqlite")("refuses an upgrade that breaks foreign keys", async () => {
    const url = await databases.fresh();
    const target = parseCatalogUrl(url);
    await migrateCatalog(target, [createParent], quiet);
    await rawExec(url, `INSERT INTO "Parent" VALUES ('p', NULL); INSERT INTO "Child" VALUES ('c', 'p');`);
    const orphaning = migration("20240102000000_orphaning", `DELETE FROM "Parent";`);
    const error = await migrateCatalog(target, [createParent, orphaning], quiet).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ code: "CATALOG_MIGRATION_FAILED", migration: orphaning.name });
    expect(String(error)).toContain("Child");
  });
});
