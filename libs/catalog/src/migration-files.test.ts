import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MigrationsNotFoundError } from "./errors.js";
import { checksumMatches, migrationsDir, readMigrations } from "./migration-files.js";

describe("migration files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "pwdr-migrations-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function write(name: string, sql: string): void {
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, "migration.sql"), sql);
  }

  it("lists migrations in folder-name order with Prisma's checksum", () => {
    write("20240102000000_b", "SELECT 2;\n");
    write("20240101000000_a", "SELECT 1;\n");
    writeFileSync(path.join(dir, "migration_lock.toml"), 'provider = "sqlite"\n');
    const migrations = readMigrations(dir);
    expect(migrations.map((migration) => migration.name)).toEqual(["20240101000000_a", "20240102000000_b"]);
    // sha256sum of "SELECT 1;\n"
    expect(migrations[0]?.checksum).toBe("b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd");
  });

  it("accepts a line-ending conversion but not an edit", () => {
    const [lf] = readMigrations(dir);
    write("20240103000000_crlf", "SELECT 1;\r\n");
    const crlf = readMigrations(dir).find((migration) => migration.name.endsWith("crlf"));
    if (!lf || !crlf) throw new Error("fixture missing");
    expect(checksumMatches(lf.checksum, crlf)).toBe(true);
    expect(checksumMatches(crlf.checksum, lf)).toBe(true);
    expect(checksumMatches("0".repeat(64), lf)).toBe(false);
  });

  it("has the same committed migrations for both providers", () => {
    const names = (provider: "sqlite" | "postgres") =>
      readMigrations(migrationsDir(provider)).map((migration) => migration.name);
    expect(names("sqlite")).toContain("20261126080000_init");
    expect(names("postgres")).toEqual(names("sqlite"));
  });

  it("names a missing folder", () => {
    expect(() => readMigrations(path.join(dir, "absent"))).toThrow(MigrationsNotFoundError);
  });
});
