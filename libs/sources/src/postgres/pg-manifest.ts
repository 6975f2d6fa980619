/** What a PostgreSQL backup wrote, stored in the snapshot at MANIFEST_PATH and returned as meta. */
export interface PgManifest {
  format: 1;
  serverVersion: string;
  serverVersionNum: number;
  databases: PgDatabaseManifest[];
  files: string[];
}

export interface PgDatabaseManifest {
  name: string;
  owner: string;
  encoding: string;
  collate: string;
  ctype: string;
  sizeBytes: number;
  tables: PgTableManifest[];
}

export interface PgTableManifest {
  schema: string;
  name: string;
  rows: number;
  path: string;
  /**
   * The post-data objects built from this table's rows alone (its indexes
   * and primary-key, unique and exclusion constraints) as pg_restore's list
   * names them, "<catalog oid> <object oid>": a restore builds them as soon
   * as the table's rows are in. Absent in backups made before it was
   * recorded; those build every index after all the data.
   */
  builds?: string[];
}
