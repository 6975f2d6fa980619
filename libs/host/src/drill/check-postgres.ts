import type pg from "pg";
import { postgresConnection } from "../definition/connections.js";
import type { PostgresSourceDefinition } from "../definition/host-definition.js";
import type { SourceOutcome } from "../recovery-point/recovery-point.js";
import type { DrillAssertion } from "./drill-result.js";

interface RecordedTable {
  database: string;
  schema: string;
  name: string;
  rows: number;
}

/**
 * Row counts of every backed-up table, counted in the sandbox and compared
 * with the recovery point's record (the snapshot's manifest lists the tables).
 */
export async function checkPostgres(
  outcome: SourceOutcome,
  meta: Record<string, unknown>,
  sandbox: PostgresSourceDefinition,
): Promise<DrillAssertion[]> {
  const tables = recordedTables(meta, outcome.counts ?? {});
  const connection = await postgresConnection(sandbox);
  const assertions: DrillAssertion[] = [];
  const { Client } = (await import("pg")).default;
  for (const database of new Set(tables.map((t) => t.database))) {
    const client = new Client({ ...connection, database });
    client.on("error", () => {});
    await client.connect();
    try {
      for (const table of tables.filter((t) => t.database === database)) {
        const actual = await countRows(client, table);
        const check = `rows of ${database}.${table.schema}.${table.name}`;
        assertions.push({ check, expected: table.rows, actual, passed: actual === table.rows });
      }
    } finally {
      await client.end().catch(() => {});
    }
  }
  return assertions;
}

/** The manifest's tables, with the counts the recovery point recorded for them where it has one. */
function recordedTables(meta: Record<string, unknown>, counts: Record<string, number>): RecordedTable[] {
  const databases = Array.isArray(meta.databases) ? meta.databases : [];
  return databases.flatMap(
    (db: { name: string; tables?: { schema: string; name: string; rows: number }[] }) =>
      (db.tables ?? []).map((t) => ({
        database: db.name,
        schema: t.schema,
        name: t.name,
        rows: counts[`table:${db.name}.${t.schema}.${t.name}`] ?? t.rows,
      })),
  );
}

async function countRows(client: pg.Client, table: RecordedTable): Promise<number> {
  const name = `${quoteIdent(table.schema)}.${quoteIdent(table.name)}`;
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${name}`);
  return Number(result.rows[0]?.n);
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
