import type { ListedTable, TableRef } from "./pg-catalog.js";
import { quoteIdent } from "./pg-client.js";
import { otherDataPath, postDataPath, preDataPath, tableDataPath } from "./pg-layout.js";
import type { ToolRun } from "./pg-tool.js";

/** One pg_dump of a database and where its output goes in the snapshot. */
export interface DumpJob {
  path: string;
  run: Omit<ToolRun, "conn" | "signal">;
}

/**
 * Every pg_dump of database `db`, all reading the exported `snapshot`: the
 * largest table first, then the schema and the other tables smallest first.
 * A short dump's time is mostly pg_dump starting up, not CPU, so the short
 * ones run beside the long one rather than one after another at the end.
 */
export function databaseDumpJobs(db: string, snapshot: string, tables: readonly ListedTable[]): DumpJob[] {
  const job = (path: string, args: string[], what: string): DumpJob => ({
    path,
    run: {
      tool: "pg_dump",
      args: ["--no-password", `--snapshot=${snapshot}`, "-Fc", "--compress=0", ...args],
      database: db,
      what: `pg_dump of ${what} of database "${db}"`,
    },
  });
  const tableJob = (t: TableRef) =>
    job(
      tableDataPath(db, t.schema, t.name),
      ["--section=data", "-t", tablePattern(t)],
      `table ${t.schema}.${t.name}`,
    );
  const bySize = [...tables].sort((a, b) => a.bytes - b.bytes);
  const largest = bySize.pop();
  return [
    ...(largest ? [tableJob(largest)] : []),
    // --create records the database's own properties (owner, ACL, settings) for a same-name restore.
    job(preDataPath(db), ["--section=pre-data", "--create"], "the schema"),
    job(postDataPath(db), ["--section=post-data"], "indexes and constraints"),
    job(
      otherDataPath(db),
      ["--section=data", ...tables.flatMap((t) => ["-T", tablePattern(t)])],
      "other data",
    ),
    ...bySize.map(tableJob),
  ];
}

/** The snapshot paths of a database's dumps, in the manifest's order. */
export function databaseDumpPaths(db: string, tables: readonly TableRef[]): string[] {
  return [
    preDataPath(db),
    ...tables.map((t) => tableDataPath(db, t.schema, t.name)),
    otherDataPath(db),
    postDataPath(db),
  ];
}

/** A -t pattern matching exactly this table: quoting makes pattern characters literal. */
function tablePattern(t: TableRef): string {
  return `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
}
