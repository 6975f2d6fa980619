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
}
