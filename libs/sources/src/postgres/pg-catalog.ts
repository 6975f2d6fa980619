import type pg from "pg";
import { quoteIdent } from "./pg-client.js";

export interface TableRef {
  schema: string;
  name: string;
}

/** A table to dump, with its on-disk size to schedule the largest dumps first. */
export interface ListedTable extends TableRef {
  bytes: number;
  /** Its indexes and key constraints, as pg_restore lists them: see PgTableManifest.builds. */
  builds: string[];
}

export interface DatabaseInfo {
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  sizeBytes: number;
}

/**
 * Ordinary tables whose rows pg_dump's data section holds; system schemas
 * and extension-owned tables are left to pg_dump's own rules (the
 * "other data" dump). With each, the ids of what is built from its rows
 * alone: its primary-key, unique and exclusion constraints (pg_constraint)
 * and its other indexes (pg_class), as "<catalog oid> <object oid>".
 */
export async function listTables(client: pg.Client): Promise<ListedTable[]> {
  const r = await client.query<TableRef & { bytes: string; builds: string[] }>(`
    SELECT n.nspname AS schema, c.relname AS name, pg_table_size(c.oid) AS bytes,
           ARRAY(SELECT 'pg_constraint'::regclass::oid || ' ' || k.oid
                   FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'x')
                 UNION ALL
                 SELECT 'pg_class'::regclass::oid || ' ' || i.indexrelid
                   FROM pg_index i
                  WHERE i.indrelid = c.oid
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                                     WHERE k.conrelid = c.oid AND k.conindid = i.indexrelid
                                       AND k.contype IN ('p', 'u', 'x'))) AS builds
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind = 'r'
       AND n.nspname NOT IN ('pg_catalog', 'information_schema')
       AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d
                        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  return r.rows.map((t) => ({ schema: t.schema, name: t.name, bytes: Number(t.bytes), builds: t.builds }));
}

export async function countRows(client: pg.Client, t: TableRef): Promise<number> {
  const r = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

export async function databaseInfo(client: pg.Client, database: string): Promise<DatabaseInfo | undefined> {
  const r = await client.query<{
    owner: string;
    encoding: string;
    collate: string;
    ctype: string;
    size: string;
  }>(
    `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding,
            datcollate AS collate, datctype AS ctype, pg_database_size(oid) AS size
       FROM pg_database WHERE datname = $1`,
    [database],
  );
  const row = r.rows[0];
  if (!row) return undefined;
  return {
    owner: row.owner,
    encoding: row.encoding,
    collate: row.collate,
    ctype: row.ctype,
    sizeBytes: Number(row.size),
  };
}

/**
 * Opens the transaction whose snapshot every pg_dump of this database
 * imports; it must stay open until the last dump has started reading.
 */
export async function exportSnapshot(client: pg.Client): Promise<string> {
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const r = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
  const id = r.rows[0]?.id;
  if (!id) throw new Error("pg_export_snapshot() returned nothing");
  return id;
}
