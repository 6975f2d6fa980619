// Where a PostgreSQL backup puts its streams inside the snapshot. Names are
// stable from day to day, so an unchanged table's dump dedups against
// yesterday's.

export const ROOT = "/postgres";
export const GLOBALS_PATH = `${ROOT}/globals.sql`;
export const MANIFEST_PATH = `${ROOT}/manifest.json`;

/** Path segment for a name: "/" and control characters would break the tree. */
function segment(name: string): string {
  return encodeURIComponent(name);
}

export function preDataPath(db: string): string {
  return `${ROOT}/${segment(db)}/pre-data.dump`;
}

export function postDataPath(db: string): string {
  return `${ROOT}/${segment(db)}/post-data.dump`;
}

/** Data not in any per-table dump: sequence values and large objects. */
export function otherDataPath(db: string): string {
  return `${ROOT}/${segment(db)}/other-data.dump`;
}

export function tableDataPath(db: string, schema: string, table: string): string {
  return `${ROOT}/${segment(db)}/data/${segment(schema)}.${segment(table)}.dump`;
}

/** The counts key of a table, as SourceBackupResult.counts records it. */
export function countKey(db: string, schema: string, table: string): string {
  return `table:${db}.${schema}.${table}`;
}
