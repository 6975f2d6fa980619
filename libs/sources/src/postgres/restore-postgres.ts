import { findSnapshot, RepoError } from "@pwdr/repo";
import type { SourceRestoreContext } from "../source.js";
import { countRows } from "./pg-catalog.js";
import { serverVersion, withClient } from "./pg-client.js";
import { maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { invalidArgument, sourceFailed } from "./pg-errors.js";
import { countKey } from "./pg-layout.js";
import type { PgDatabaseManifest } from "./pg-manifest.js";
import { restoreDatabase } from "./pg-restore-database.js";
import { restoreGlobals } from "./pg-restore-globals.js";
import { readManifest } from "./pg-snapshot-file.js";
import { requireToolFor, serverMajor } from "./pg-version.js";

export interface PostgresRestoreOptions {
  connection: PgConnection;
  /** Databases to restore; every one in the snapshot when omitted. */
  databases?: string[];
  /** Restores database `name` under another name (the original is left alone). */
  targetDatabase?: (name: string) => string;
  /** Parallel pg_restore runs for table data; 2 when omitted. */
  jobs?: number;
  /** Drops a target database that exists; without it an existing target is an error. */
  clean?: boolean;
}

export interface PostgresRestoreResult {
  databases: string[];
  tables: number;
  rowsVerified: number;
}

/**
 * Restores roles, then each database (pre-data, table data in parallel,
 * post-data), then checks every table's row count against the backup's.
 */
export async function restorePostgres(
  ctx: SourceRestoreContext,
  options: PostgresRestoreOptions,
): Promise<PostgresRestoreResult> {
  const conn = options.connection;
  const jobs = options.jobs ?? 2;
  if (!Number.isInteger(jobs) || jobs < 1)
    throw invalidArgument(conn, `jobs must be a whole number ≥ 1, not ${jobs}`);
  const snapshot = await findSnapshot(ctx.repo, ctx.snapshotId);
  const manifest = await readManifest(ctx.repo, snapshot);
  const selected = selectDatabases(manifest.databases, options.databases);
  await requireTools(conn, serverMajor(manifest.serverVersionNum));
  const progress = (phase: string, item: string) => ctx.onProgress?.({ phase, bytesDone: 0, item });
  progress("globals", "roles");
  await restoreGlobals(ctx.repo, snapshot, conn);
  const expected = expectedCounts(snapshot.meta, selected);
  const result: PostgresRestoreResult = { databases: [], tables: 0, rowsVerified: 0 };
  for (const db of selected) {
    const target = options.targetDatabase?.(db.name) ?? db.name;
    await restoreDatabase({
      repo: ctx.repo,
      snapshot,
      conn,
      db,
      target,
      jobs,
      clean: options.clean ?? false,
      onItem: (item) => progress("restore", item),
    });
    progress("verify", target);
    result.rowsVerified += await verifyCounts(conn, db, target, expected);
    result.tables += db.tables.length;
    result.databases.push(target);
  }
  return result;
}

function selectDatabases(all: PgDatabaseManifest[], wanted: string[] | undefined): PgDatabaseManifest[] {
  if (!wanted) return all;
  return wanted.map((name) => {
    const db = all.find((d) => d.name === name);
    if (!db) {
      const known = all.map((d) => d.name).join(", ");
      throw new RepoError("invalid_argument", `database "${name}" is not in this backup (it has: ${known})`);
    }
    return db;
  });
}

/** The restoring tools must be at least as new as the server the backup came from and the target. */
async function requireTools(conn: PgConnection, backupMajor: number): Promise<void> {
  const target = await withClient(conn, maintenanceDatabase(conn), serverVersion);
  const major = Math.max(backupMajor, serverMajor(target.num));
  await requireToolFor(conn, "pg_restore", major);
  await requireToolFor(conn, "psql", major);
}

/**
 * The row counts to verify: those the caller recorded in the snapshot's meta
 * (`meta.counts`, from SourceBackupResult) when present, else the manifest's.
 */
function expectedCounts(
  meta: Record<string, unknown> | undefined,
  dbs: PgDatabaseManifest[],
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const db of dbs) for (const t of db.tables) counts.set(countKey(db.name, t.schema, t.name), t.rows);
  const recorded = meta?.counts;
  if (recorded && typeof recorded === "object") {
    for (const [key, value] of Object.entries(recorded)) {
      if (counts.has(key) && typeof value === "number") counts.set(key, value);
    }
  }
  return counts;
}

async function verifyCounts(
  conn: PgConnection,
  db: PgDatabaseManifest,
  target: string,
  expected: Map<string, number>,
): Promise<number> {
  return withClient(conn, target, async (client) => {
    const wrong: string[] = [];
    let rows = 0;
    for (const t of db.tables) {
      const want = expected.get(countKey(db.name, t.schema, t.name)) ?? t.rows;
      const got = await countRows(client, t);
      rows += got;
      if (got !== want) wrong.push(`${t.schema}.${t.name} has ${got} rows, the backup ${want}`);
    }
    if (wrong.length > 0) {
      throw sourceFailed(
        conn,
        `restored database "${target}" does not match the backup: ${wrong.join("; ")}`,
      );
    }
    return rows;
  });
}
