import { dumpFile, type Repository, type Snapshot } from "@pwdr/repo";
import type pg from "pg";
import { quoteIdent, withClient } from "./pg-client.js";
import { dbnameArg, maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { sourceFailed } from "./pg-errors.js";
import { otherDataPath, postDataPath, preDataPath } from "./pg-layout.js";
import type { PgDatabaseManifest, PgTableManifest } from "./pg-manifest.js";
import { forEachWithFollowUps } from "./pg-parallel.js";
import { PostDataArchive, type PostDataSplit, splitPostData, type TocEntry } from "./pg-post-data.js";
import { snapshotFileSizes } from "./pg-snapshot-file.js";
import { runToolWithInput } from "./pg-tool.js";

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
 * dumps, largest first and `jobs` at once (each pg_restore reads its dump
 * from stdin, so nothing lands on local disk). A table's indexes and key
 * constraints are built as soon as its rows are in, beside the other
 * tables' loading, as pg_restore -j does; what spans tables (foreign keys,
 * triggers …) comes last.
 */
export async function restoreDatabase(r: DatabaseRestore): Promise<void> {
  await prepareTarget(r);
  const sameName = r.target === r.db.name;
  const path = postDataPath(r.db.name);
  const fetching = PostDataArchive.fetch({ repo: r.repo, snapshot: r.snapshot, conn: r.conn, path });
  fetching.catch(() => {}); // awaited below, unless pre-data fails first
  try {
    // With the original name, --create also restores the database's owner, ACL and settings.
    await pgRestore(r, preDataPath(r.db.name), sameName ? maintenanceDatabase(r.conn) : r.target, sameName);
  } catch (error) {
    await fetching.then(
      (archive) => archive.remove(),
      () => {},
    );
    throw error;
  }
  const archive = await fetching;
  try {
    const split = splitPostData(archive.entries, r.db.tables);
    await forEachWithFollowUps<Step>(await dataSteps(r, split), r.jobs, (step) => runStep(r, archive, step));
    r.onItem(path);
    await archive.restore(split.rest, r.target, r.jobs, path);
  } finally {
    await archive.remove();
  }
}

interface DataStep {
  kind: "data";
  path: string;
  table?: PgTableManifest;
  builds: TocEntry[];
}

interface BuildStep {
  kind: "builds";
  table: PgTableManifest;
  entries: TocEntry[];
}

type Step = DataStep | BuildStep;

/** The data dumps, largest first, each carrying its table's index builds. */
async function dataSteps(r: DatabaseRestore, split: PostDataSplit): Promise<DataStep[]> {
  const steps: DataStep[] = [
    ...r.db.tables.map((table) => ({
      kind: "data" as const,
      path: table.path,
      table,
      builds: split.byTable.get(table.path) ?? [],
    })),
    { kind: "data", path: otherDataPath(r.db.name), builds: [] },
  ];
  const sizes = await snapshotFileSizes(
    r.repo,
    r.snapshot,
    steps.map((s) => s.path),
  );
  return steps.sort((a, b) => (sizes.get(b.path) ?? 0) - (sizes.get(a.path) ?? 0));
}

async function runStep(r: DatabaseRestore, archive: PostDataArchive, step: Step): Promise<Step[]> {
  if (step.kind === "builds") {
    const name = `${step.table.schema}.${step.table.name}`;
    r.onItem(`${postDataPath(r.db.name)} (${name})`);
    await archive.restore(step.entries, r.target, 1, `indexes and keys of ${name}`);
    return [];
  }
  await pgRestore(r, step.path, r.target, false);
  return step.table && step.builds.length > 0
    ? [{ kind: "builds", table: step.table, entries: step.builds }]
    : [];
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
