import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { dumpFile, type Repository, type Snapshot } from "@pwdr/repo";
import type pg from "pg";
import { quoteIdent, withClient } from "./pg-client.js";
import { dbnameArg, maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { sourceFailed } from "./pg-errors.js";
import { otherDataPath, postDataPath, preDataPath } from "./pg-layout.js";
import type { PgDatabaseManifest } from "./pg-manifest.js";
import { forEachLimited } from "./pg-parallel.js";
import { runTool, runToolWithInput } from "./pg-tool.js";

export interface DatabaseRestore {
  repo: Repository;
  snapshot: Snapshot;
  conn: PgConnection;
  db: PgDatabaseManifest;
  target: string;
  jobs: number;
  clean: boolean;
  onItem: (item: string) => void;
}

/**
 * (Re)creates the target database and loads pre-data, then the table data
 * dumps in parallel (each pg_restore reads its dump from stdin, so nothing
 * lands on local disk), then post-data: indexes and constraints are built
 * once, after the rows are in.
 */
export async function restoreDatabase(r: DatabaseRestore): Promise<void> {
  await prepareTarget(r);
  const sameName = r.target === r.db.name;
  // With the original name, --create also restores the database's owner, ACL and settings.
  await pgRestore(r, preDataPath(r.db.name), sameName ? maintenanceDatabase(r.conn) : r.target, sameName);
  const data = [...r.db.tables.map((t) => t.path), otherDataPath(r.db.name)];
  await forEachLimited(data, r.jobs, (path) => pgRestore(r, path, r.target, false));
  if (r.jobs > 1) await parallelPostData(r);
  else await pgRestore(r, postDataPath(r.db.name), r.target, false);
}

/**
 * Indexes and constraints built `jobs` at a time: pg_restore -j needs a
 * seekable archive, so the post-data dump (DDL only, a few KiB) goes through
 * a private temporary file.
 */
async function parallelPostData(r: DatabaseRestore): Promise<void> {
  const path = postDataPath(r.db.name);
  r.onItem(path);
  const dir = await mkdtemp(join(tmpdir(), "pwdr-post-data-"));
  try {
    const file = join(dir, "post-data.dump");
    const out = createWriteStream(file, { mode: 0o600 });
    const written = finished(out);
    written.catch(() => {}); // awaited below; a dump failure is the error to report
    try {
      await dumpFile(r.repo, r.snapshot, path, out);
    } finally {
      out.end();
    }
    await written;
    await runTool({
      conn: r.conn,
      tool: "pg_restore",
      args: ["--no-password", "--exit-on-error", "-j", String(r.jobs), "-d", dbnameArg(r.target), file],
      database: r.target,
      what: `pg_restore of ${path} into "${r.target}"`,
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function prepareTarget(r: DatabaseRestore): Promise<void> {
  await withClient(r.conn, maintenanceDatabase(r.conn), async (client) => {
    if (r.clean) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(r.target)} WITH (FORCE)`);
    else if (await exists(client, r.target)) {
      throw sourceFailed(
        r.conn,
        `database "${r.target}" already exists; restore with clean to replace it, or into another name`,
      );
    }
    if (r.target !== r.db.name) await client.query(createDatabaseSql(r));
  });
}

async function exists(client: pg.Client, name: string): Promise<boolean> {
  const res = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  return res.rowCount === 1;
}

function createDatabaseSql(r: DatabaseRestore): string {
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return (
    `CREATE DATABASE ${quoteIdent(r.target)} WITH TEMPLATE = template0 OWNER = ${quoteIdent(r.db.owner)} ` +
    `ENCODING = ${literal(r.db.encoding)} LC_COLLATE = ${literal(r.db.collate)} LC_CTYPE = ${literal(r.db.ctype)}`
  );
}

async function pgRestore(r: DatabaseRestore, path: string, database: string, create: boolean): Promise<void> {
  r.onItem(path);
  const args = [
    "--no-password",
    "--exit-on-error",
    ...(create ? ["--create"] : []),
    "-d",
    dbnameArg(database),
  ];
  await runToolWithInput(
    { conn: r.conn, tool: "pg_restore", args, database, what: `pg_restore of ${path} into "${r.target}"` },
    (stdin) => dumpFile(r.repo, r.snapshot, path, stdin),
  );
}
