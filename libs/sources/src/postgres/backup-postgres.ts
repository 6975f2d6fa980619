import type pg from "pg";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { countRows, databaseInfo, exportSnapshot, listTables, type TableRef } from "./pg-catalog.js";
import { connect, quoteIdent, serverVersion, withClient } from "./pg-client.js";
import { maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { invalidArgument, sourceFailed } from "./pg-errors.js";
import {
  countKey,
  GLOBALS_PATH,
  MANIFEST_PATH,
  otherDataPath,
  postDataPath,
  preDataPath,
  tableDataPath,
} from "./pg-layout.js";
import type { PgDatabaseManifest, PgManifest, PgTableManifest } from "./pg-manifest.js";
import { streamTool, type ToolRun } from "./pg-tool.js";
import { requireToolFor, serverMajor } from "./pg-version.js";

export interface PostgresBackupOptions {
  connection: PgConnection;
  databases: string[];
}

/** Files in a snapshot are private: dumps hold every row, globals hold password hashes. */
const FILE_MODE = 0o600;

/**
 * Backs up roles and the named databases into `ctx.backup`: globals, then per
 * database pre-data, one data dump per table (so unchanged tables dedup),
 * the remaining data, post-data — all from one exported snapshot per
 * database, streamed with no local copy. Throws `source_failed` on any tool
 * failure; the caller then aborts its Backup so no snapshot is written.
 */
export async function backupPostgres(
  ctx: SourceBackupContext,
  options: PostgresBackupOptions,
): Promise<SourceBackupResult> {
  const conn = options.connection;
  if (options.databases.length === 0) {
    throw invalidArgument(conn, "no database to back up; list at least one in databases");
  }
  const server = await withClient(conn, maintenanceDatabase(conn), serverVersion);
  const major = serverMajor(server.num);
  await requireToolFor(conn, "pg_dump", major);
  await requireToolFor(conn, "pg_dumpall", major);
  const writer = new DumpWriter(ctx, conn);
  await writer.add(GLOBALS_PATH, {
    tool: "pg_dumpall",
    args: ["--globals-only", "--no-password", "-l", maintenanceDatabase(conn)],
    database: maintenanceDatabase(conn),
    what: "pg_dumpall --globals-only",
  });
  const databases: PgDatabaseManifest[] = [];
  for (const db of options.databases) databases.push(await backupDatabase(writer, db));
  const manifest: PgManifest = {
    format: 1,
    serverVersion: server.version,
    serverVersionNum: server.num,
    databases,
    files: [...writer.files, MANIFEST_PATH],
  };
  await ctx.backup.addStream(MANIFEST_PATH, once(Buffer.from(JSON.stringify(manifest, null, 2))), {
    mode: FILE_MODE,
  });
  return { kind: "postgres", version: server.version, counts: countsOf(databases), meta: { ...manifest } };
}

async function backupDatabase(writer: DumpWriter, db: string): Promise<PgDatabaseManifest> {
  const conn = writer.conn;
  const client = await connect(conn, db);
  try {
    const info = await databaseInfo(client, db);
    if (!info) throw sourceFailed(conn, `database "${db}" does not exist; check the databases list`);
    const snapshot = await exportSnapshot(client);
    const tables = await listTables(client);
    const dump = (args: string[], what: string): Omit<ToolRun, "conn"> => ({
      tool: "pg_dump",
      args: ["--no-password", `--snapshot=${snapshot}`, "-Fc", "--compress=0", ...args],
      database: db,
      what: `pg_dump of ${what} of database "${db}"`,
    });
    // --create records the database's own properties (owner, ACL, settings) for a same-name restore.
    await writer.add(preDataPath(db), dump(["--section=pre-data", "--create"], "the schema"));
    const manifestTables: PgTableManifest[] = [];
    for (const t of tables) manifestTables.push(await backupTable(writer, client, db, t, dump));
    await writer.add(otherDataPath(db), dump(["--section=data", ...excludeArgs(tables)], "other data"));
    await writer.add(postDataPath(db), dump(["--section=post-data"], "indexes and constraints"));
    await client.query("COMMIT");
    return { name: db, ...info, tables: manifestTables };
  } finally {
    await client.end().catch(() => {});
  }
}

async function backupTable(
  writer: DumpWriter,
  client: pg.Client,
  db: string,
  t: TableRef,
  dump: (args: string[], what: string) => Omit<ToolRun, "conn">,
): Promise<PgTableManifest> {
  // Counted in the exporting transaction: the same snapshot the dump reads.
  const rows = await countRows(client, t);
  const path = tableDataPath(db, t.schema, t.name);
  await writer.add(path, dump(["--section=data", "-t", tablePattern(t)], `table ${t.schema}.${t.name}`));
  return { schema: t.schema, name: t.name, rows, path };
}

/** A -t pattern matching exactly this table: quoting makes pattern characters literal. */
function tablePattern(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}

function excludeArgs(tables: TableRef[]): string[] {
  return tables.flatMap((t) => ["-T", tablePattern(t)]);
}

function countsOf(databases: PgDatabaseManifest[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const db of databases) for (const t of db.tables) counts[countKey(db.name, t.schema, t.name)] = t.rows;
  return counts;
}

async function* once(data: Buffer): AsyncGenerator<Buffer> {
  yield data;
}

/** Streams tool output into the backup, counting bytes for progress. */
class DumpWriter {
  readonly files: string[] = [];
  #bytes = 0;

  constructor(
    private readonly ctx: SourceBackupContext,
    readonly conn: PgConnection,
  ) {}

  async add(path: string, run: Omit<ToolRun, "conn">): Promise<void> {
    const progress = this.ctx.onProgress;
    const counted = async function* (this: DumpWriter, source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        this.#bytes += chunk.length;
        progress?.({ phase: "dump", bytesDone: this.#bytes, item: path });
        yield chunk;
      }
    }.call(this, streamTool({ ...run, conn: this.conn }));
    await this.ctx.backup.addStream(path, counted, { mode: FILE_MODE });
    this.files.push(path);
  }
}
