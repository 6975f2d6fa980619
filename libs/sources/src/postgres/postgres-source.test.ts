import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkRepository, isRepoError, listSnapshots, type Repository } from "@pwdr/repo";
import { freePort, type PostgresServer, startPostgres } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgBackupRun } from "../test-support/pg-backup-run.js";
import {
  failingBinDir,
  failingGlobalsBinDir,
  logicalDump,
  oldPgDumpBinDir,
  PIWARDRIVE_SCHEMA,
  POST_DATA_SCHEMA,
  requirePasswords,
  SUPERUSER_PASSWORD,
  sql,
} from "../test-support/pg-fixture.js";
import { pgTempRepository } from "../test-support/pg-temp-repo.js";
import type { PgConnection } from "./pg-connection.js";
import type { PgManifest } from "./pg-manifest.js";
import { restorePostgres } from "./restore-postgres.js";

const DB = "piwardrive";
let server: PostgresServer;
let repo: Repository;
let conn: PgConnection;

beforeAll(async () => {
  server = await startPostgres();
  await requirePasswords(server);
  conn = {
    host: server.host,
    port: server.port,
    user: "postgres",
    password: SUPERUSER_PASSWORD,
    binDir: server.binDir,
  };
  await sql(server, "postgres", `CREATE DATABASE ${DB}`, SUPERUSER_PASSWORD);
  await sql(server, DB, PIWARDRIVE_SCHEMA, SUPERUSER_PASSWORD);
  repo = await pgTempRepository();
});

afterAll(async () => {
  await server?.stop();
});

async function expectSourceFailed(p: Promise<unknown>): Promise<Error> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRepoError(err, "source_failed"), String(err)).toBe(true);
  return err as Error;
}

describe("PostgreSQL source", () => {
  it("backs up roles and a database, and restores them identically after both are dropped", async () => {
    const before = logicalDump(server, DB);
    const { backup, source } = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    expect(source.kind).toBe("postgres");
    expect(source.version).toMatch(new RegExp(`^${server.version}\\.`));
    expect(source.counts).toEqual({
      "table:piwardrive.public.sessions": 20,
      "table:piwardrive.public.settings": 2,
      "table:piwardrive.public.wifi_detections": 60000,
    });
    expect(backup.snapshot.paths).toContain("/postgres/piwardrive/data/public.wifi_detections.dump");

    await sql(server, "postgres", `DROP DATABASE ${DB}`, SUPERUSER_PASSWORD);
    await sql(server, "postgres", "DROP ROLE pw_app; DROP ROLE pw_reader", SUPERUSER_PASSWORD);
    const restored = await restorePostgres({ repo, snapshotId: backup.id }, { connection: conn, jobs: 3 });

    expect(restored).toEqual({ databases: [DB], tables: 3, rowsVerified: 60022 });
    expect(logicalDump(server, DB)).toBe(before);
    const seq = await sql(server, DB, "SELECT last_value FROM export_batch_seq", SUPERUSER_PASSWORD);
    expect(seq.rows[0]).toEqual({ last_value: "142" });
  });

  it("builds each table's indexes after its rows and what spans tables last, restoring identically", async () => {
    const db = "postdata";
    await sql(server, "postgres", `CREATE DATABASE ${db}`, SUPERUSER_PASSWORD);
    await sql(server, db, POST_DATA_SCHEMA, SUPERUSER_PASSWORD);
    const before = logicalDump(server, db);
    const { backup, source } = await pgBackupRun(repo, { connection: conn, databases: [db] });
    const tables = (source.meta as unknown as PgManifest).databases[0]?.tables ?? [];
    const builds = Object.fromEntries(tables.map((t) => [t.name, t.builds?.length]));
    // devices: primary key, unique, exclusion; a partition: its primary key and index.
    expect(builds).toMatchObject({ devices: 3, readings_2025: 2, "Device Notes": 1 });

    await sql(server, "postgres", `DROP DATABASE ${db}`, SUPERUSER_PASSWORD);
    const items: string[] = [];
    await restorePostgres(
      { repo, snapshotId: backup.id, onProgress: (p) => items.push(p.item ?? "") },
      { connection: conn, databases: [db], jobs: 2 },
    );
    expect(logicalDump(server, db)).toBe(before);
    // The largest dump loads first: 2,675 of the 5,000 readings fall in 2025.
    expect(items.find((i) => i.includes("/data/"))).toBe(`/postgres/${db}/data/public.readings_2025.dump`);
    const built = (name: string) => items.indexOf(`/postgres/${db}/post-data.dump (public.${name})`);
    const loaded = (name: string) =>
      items.indexOf(`/postgres/${db}/data/public.${encodeURIComponent(name)}.dump`);
    expect(built("devices")).toBeGreaterThan(loaded("devices"));
    expect(built("Device Notes")).toBeGreaterThan(loaded("Device Notes"));
    expect(items.at(-2)).toBe(`/postgres/${db}/post-data.dump`);
    await sql(server, db, `INSERT INTO "Device Notes" VALUES ('sn-1', 'new')`, SUPERUSER_PASSWORD);
    const checks = await sql(
      server,
      db,
      `SELECT (SELECT note FROM "Device Notes" WHERE note LIKE 'new%') AS note,
              (SELECT sum(n)::int FROM readings_per_day) AS per_day`,
      SUPERUSER_PASSWORD,
    );
    expect(checks.rows[0]).toEqual({ note: "new (stamped)", per_day: 5000 });
    await expect(
      sql(server, db, "INSERT INTO devices VALUES (999, 'sn-x', int4range(10, 12))", SUPERUSER_PASSWORD),
    ).rejects.toThrow(/conflicting key value violates exclusion constraint/);
  });

  it("restores into another database name, and refuses to overwrite one without clean", async () => {
    const { backup } = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    // One job: the dumps restore one at a time, each table's indexes right after its rows.
    const restored = await restorePostgres(
      { repo, snapshotId: backup.id },
      { connection: conn, databases: [DB], targetDatabase: (n) => `${n}_copy`, jobs: 1 },
    );
    expect(restored.databases).toEqual([`${DB}_copy`]);
    expect(logicalDump(server, `${DB}_copy`)).toBe(logicalDump(server, DB));

    const err = await expectSourceFailed(
      restorePostgres({ repo, snapshotId: backup.id }, { connection: conn }),
    );
    expect(err.message).toMatch(/database "piwardrive" already exists; restore with clean/);
  });

  it("stores little on a second backup when one small table changed", async () => {
    const first = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    await sql(
      server,
      DB,
      "UPDATE settings SET value = '{\"baud\": 4800}' WHERE key = 'gps'",
      SUPERUSER_PASSWORD,
    );
    const second = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    const total = first.backup.snapshot.summary.bytes;
    expect(total).toBeGreaterThan(5_000_000);
    // Everything but the changed table, the schema dumps and each file's header dedups.
    expect(second.backup.snapshot.summary.addedBytes).toBeLessThan(total / 20);
  });

  it("stores an update of 1 row in 200 of the largest table as deltas against the parent snapshot", async () => {
    const first = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    const scatter = (by: number) =>
      sql(
        server,
        DB,
        `UPDATE wifi_detections SET rssi = rssi + ${by} WHERE id % 200 = 7`,
        SUPERUSER_PASSWORD,
      );
    await scatter(-1);
    try {
      const second = await pgBackupRun(repo, { connection: conn, databases: [DB] });
      // Every chunk of the table holds an updated row: stored whole, that is most of the dump again.
      expect(second.backup.snapshot.summary.addedBytes).toBeLessThan(
        first.backup.snapshot.summary.bytes / 50,
      );
      expect(second.backup.snapshot.parent).toBe(first.backup.id);
      const restored = await restorePostgres(
        { repo, snapshotId: second.backup.id },
        { connection: conn, databases: [DB], targetDatabase: (n) => `${n}_delta` },
      );
      expect(restored.databases).toEqual([`${DB}_delta`]);
      expect(logicalDump(server, `${DB}_delta`)).toBe(logicalDump(server, DB));
    } finally {
      await scatter(1);
    }
  });

  it("replaces a live database with clean, and names tables whose row counts do not match", async () => {
    const { backup } = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    await sql(server, DB, "DELETE FROM settings WHERE key = 'upload'", SUPERUSER_PASSWORD);
    await restorePostgres({ repo, snapshotId: backup.id }, { connection: conn, clean: true });
    const rows = await sql(server, DB, "SELECT count(*)::int AS n FROM settings", SUPERUSER_PASSWORD);
    expect(rows.rows[0]).toEqual({ n: 2 });

    const tampered = await pgBackupRun(repo, {
      connection: conn,
      databases: [DB],
      counts: { "table:piwardrive.public.settings": 99 },
    });
    const err = await expectSourceFailed(
      restorePostgres(
        { repo, snapshotId: tampered.backup.id },
        { connection: conn, targetDatabase: (n) => `${n}_verify` },
      ),
    );
    expect(err.message).toBe(
      'restored database "piwardrive_verify" does not match the backup: public.settings has 2 rows, the backup 99',
    );
  });

  it("fails with a clear error that hides the password when the password is wrong", async () => {
    const bad = "Wr0ng-Password-xyz";
    const before = (await listSnapshots(repo)).length;
    const err = await expectSourceFailed(
      pgBackupRun(repo, { connection: { ...conn, password: bad }, databases: [DB] }),
    );
    expect(err.message).toMatch(/password authentication failed/);
    expect(err.message).toMatch(/check the user and password/);
    expect(err.message).not.toContain(bad);
    expect(JSON.stringify(err)).not.toContain(bad);
    expect((await listSnapshots(repo)).length).toBe(before);
  });

  it("fails with a clear error when the server is unreachable", async () => {
    const port = await freePort();
    const err = await expectSourceFailed(
      pgBackupRun(repo, { connection: { ...conn, port }, databases: [DB] }),
    );
    expect(err.message).toMatch(new RegExp(`cannot connect to PostgreSQL postgres@127\\.0\\.0\\.1:${port}`));
    expect(err.message).toMatch(/check that PostgreSQL is running/);
  });

  it("aborts the backup, writing no snapshot, when pg_dump dies mid-way", async () => {
    const before = (await listSnapshots(repo)).length;
    const err = await expectSourceFailed(
      pgBackupRun(repo, {
        connection: { ...conn, binDir: failingBinDir(server.binDir, "sessions") },
        databases: [DB],
      }),
    );
    expect(err.message).toMatch(
      /pg_dump of table public\.sessions of database "piwardrive" failed: pg_dump exited with status 1: pg_dump: error: simulated crash/,
    );
    expect(err.message).not.toContain(SUPERUSER_PASSWORD);
    expect((await listSnapshots(repo)).length).toBe(before);
  });

  it("kills the other running dump when one fails, leaving a valid repository and no snapshot", async () => {
    const before = (await listSnapshots(repo)).length;
    const binDir = failingBinDir(server.binDir, "sessions", "wifi_detections");
    const err = await expectSourceFailed(
      pgBackupRun(repo, { connection: { ...conn, binDir }, databases: [DB] }),
    );
    expect(err.message).toMatch(
      /pg_dump of table public\.sessions of database "piwardrive" failed: .*simulated crash/,
    );
    const hung = Number(readFileSync(join(binDir, "hang.pid"), "utf8"));
    expect(() => process.kill(hung, 0)).toThrow(/ESRCH/);
    expect((await listSnapshots(repo)).length).toBe(before);
    const report = await checkRepository(repo);
    expect(report.errors).toEqual([]);
    const retry = await pgBackupRun(repo, { connection: conn, databases: [DB] });
    expect(retry.source.counts["table:piwardrive.public.wifi_detections"]).toBe(60000);
  });

  it("fails, writing no snapshot, when the roles dump fails", async () => {
    const before = (await listSnapshots(repo)).length;
    const err = await expectSourceFailed(
      pgBackupRun(repo, {
        connection: { ...conn, binDir: failingGlobalsBinDir(server.binDir) },
        databases: [DB],
      }),
    );
    expect(err.message).toMatch(/pg_dumpall --globals-only failed: .*simulated failure/);
    expect((await listSnapshots(repo)).length).toBe(before);
  });

  it("refuses a jobs count that is not a whole number ≥ 1", async () => {
    const err = await pgBackupRun(repo, { connection: conn, databases: [DB], jobs: 0 }).catch(
      (e: unknown) => e,
    );
    expect(isRepoError(err, "invalid_argument"), String(err)).toBe(true);
  });

  it("refuses a pg_dump older than the server before dumping anything", async () => {
    const err = await pgBackupRun(repo, {
      connection: { ...conn, binDir: oldPgDumpBinDir(server.binDir) },
      databases: [DB],
    }).then(
      () => new Error("backup succeeded"),
      (e: unknown) => e as Error,
    );
    expect(isRepoError(err, "invalid_argument"), String(err)).toBe(true);
    expect(err.message).toMatch(
      new RegExp(
        `pg_dump is PostgreSQL 9 but the server is PostgreSQL ${server.version}; install the PostgreSQL ${server.version} client tools`,
      ),
    );
  });
});
