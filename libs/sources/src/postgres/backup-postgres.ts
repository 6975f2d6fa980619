import type pg from "pg";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { countRows, databaseInfo, exportSnapshot, type ListedTable, listTables } from "./pg-catalog.js";
import { connect, serverVersion, withClient } from "./pg-client.js";
import { maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { type DumpJob, databaseDumpJobs, databaseDumpPaths } from "./pg-dump-jobs.js";
import { DumpWriter, FILE_MODE } from "./pg-dump-writer.js";
import { invalidArgument, sourceFailed } from "./pg-errors.js";
import { countKey, GLOBALS_PATH, MANIFEST_PATH, tableDataPath } from "./pg-layout.js";
import type { PgDatabaseManifest, PgManifest } from "./pg-manifest.js";
import { forEachLimited } from "./pg-parallel.js";
import { requireToolFor, serverMajor } from "./pg-version.js";

export interface PostgresBackupOptions {
  connection: PgConnection;
  databases: string[];
  /** pg_dump runs at once within a database; 2 when omitted. */
  jobs?: number;
}

/**
 * Backs up roles and the named databases into `ctx.backup`: globals, then per
 * database pre-data, one data dump per table (so unchanged tables dedup),
 * the remaining data, post-data — all from one exported snapshot per
 * database, up to `jobs` dumps at once, streamed with no local copy. Throws
 * `source_failed` on any tool failure, after stopping the other dumps; the
 * caller then aborts its Backup so no snapshot is written.
 */
export async function backupPostgres(
  ctx: SourceBackupContext,
  options: PostgresBackupOptions,
): Promise<SourceBackupResult> {
  const conn = options.connection;
  const jobs = options.jobs ?? 2;
  if (options.databases.length === 0) {
    throw invalidArgument(conn, "no database to back up; list at least one in databases");
  }
  if (!Number.isInteger(jobs) || jobs < 1)
    throw invalidArgument(conn, `jobs must be a whole number ≥ 1, not ${jobs}`);
  const server = await withClient(conn, maintenanceDatabase(conn), serverVersion);
  const major = serverMajor(server.num);
  await Promise.all([requireToolFor(conn, "pg_dump", major), requireToolFor(conn, "pg_dumpall", major)]);
  const writer = new DumpWriter(ctx, conn);
  await writer.add(GLOBALS_PATH, {
    tool: "pg_dumpall",
    args: ["--globals-only", "--no-password", "-l", maintenanceDatabase(conn)],
    database: maintenanceDatabase(conn),
    what: "pg_dumpall --globals-only",
  });
  const databases: PgDatabaseManifest[] = [];
  for (const db of options.databases) databases.push(await backupDatabase(writer, db, jobs));
  const manifest: PgManifest = {
    format: 1,
    serverVersion: server.version,
    serverVersionNum: server.num,
    databases,
    files: [GLOBALS_PATH, ...databases.flatMap((d) => databaseDumpPaths(d.name, d.tables)), MANIFEST_PATH],
  };
  await ctx.backup.addStream(MANIFEST_PATH, once(Buffer.from(JSON.stringify(manifest, null, 2))), {
    mode: FILE_MODE,
  });
  return { kind: "postgres", version: server.version, counts: countsOf(databases), meta: { ...manifest } };
}

async function backupDatabase(writer: DumpWriter, db: string, jobs: number): Promise<PgDatabaseManifest> {
  const conn = writer.conn;
  const client = await connect(conn, db);
  try {
    const info = await databaseInfo(client, db);
    if (!info) throw sourceFailed(conn, `database "${db}" does not exist; check the databases list`);
    const snapshot = await exportSnapshot(client);
    const tables = await listTables(client);
    const rows = await dumpAndCount(writer, client, databaseDumpJobs(db, snapshot, tables), tables, jobs);
    await client.query("COMMIT");
    const manifestTables = tables.map((t, i) => ({
      schema: t.schema,
      name: t.name,
      rows: rows[i] ?? 0,
      path: tableDataPath(db, t.schema, t.name),
      builds: t.builds,
    }));
    return { name: db, ...info, tables: manifestTables };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs a database's dumps, `jobs` at a time, and meanwhile counts its tables'
 * rows on the exporting connection: the snapshot the dumps read. Throws the
 * first failure once nothing runs any more.
 */
async function dumpAndCount(
  writer: DumpWriter,
  client: pg.Client,
  dumps: DumpJob[],
  tables: readonly ListedTable[],
  jobs: number,
): Promise<number[]> {
  const counting = countAll(client, tables).catch((error: unknown) => {
    writer.fail(error);
    return [];
  });
  // A failed dump is recorded by the writer (which stops the others) and thrown below.
  const dumping = forEachLimited(dumps, jobs, (job) => writer.add(job.path, job.run)).catch(() => {});
  const [rows] = await Promise.all([counting, dumping]);
  writer.throwIfFailed();
  return rows;
}

async function countAll(client: pg.Client, tables: readonly ListedTable[]): Promise<number[]> {
  const rows: number[] = [];
  for (const t of tables) rows.push(await countRows(client, t));
  return rows;
}

function countsOf(databases: PgDatabaseManifest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const db of databases) for (const t of db.tables) counts[countKey(db.name, t.schema, t.name)] = t.rows;
  return counts;
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}
