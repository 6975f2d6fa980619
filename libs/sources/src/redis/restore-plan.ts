import { baseOnlyManifest } from "./aof-manifest.js";
import type { RedisLayout } from "./layout.js";
import { type RedisBackupRecord, SNAPSHOT_PATHS } from "./record.js";

/** A file to put into place: from the snapshot (or generated), to a name relative to the data dir. */
export interface PlannedFile {
  to: string;
  from: { snapshotPath: string } | { text: string } | { copyOf: string };
}

export type AofHandling = "restored" | "rebuilt-from-rdb" | "off";

export interface RestorePlan {
  aof: AofHandling;
  files: PlannedFile[];
}

/**
 * What to install for the target's persistence mode. The trap to avoid: with
 * `appendonly yes` Redis loads only the AOF and ignores dump.rdb, so a
 * restored RDB next to an old (or freshly created, empty) AOF is silently
 * not loaded (redis/redis#12098, #12484).
 *
 * - AOF on, backup has an AOF: the manifest and exactly the files it lists.
 * - AOF on, backup has only an RDB: an appendonlydir whose manifest names
 *   the RDB as its base (`<appendfilename>.1.base.rdb`, RDB-format bases are
 *   what `aof-use-rdb-preamble yes` writes). Redis 7 loads it as the AOF and
 *   opens a new incremental file, so AOF stays on throughout: no start with
 *   `appendonly no`, no CONFIG SET afterwards, no config file to edit or forget
 *   to switch back, and the service hooks stay opaque.
 * - AOF off: the RDB under `dbfilename`.
 *
 * The RDB is installed under `dbfilename` in every case, so switching AOF off
 * later does not bring back an old dump.
 */
export function planRestore(
  record: RedisBackupRecord,
  layout: RedisLayout,
  appendonly: boolean,
): RestorePlan {
  const rdb: PlannedFile = { to: layout.dbfilename, from: { snapshotPath: SNAPSHOT_PATHS.rdb } };
  if (!appendonly) return { aof: "off", files: [rdb] };
  if (record.aof) {
    const aof = record.aof;
    const files = [...aof.files, aof.manifest].map((name) => ({
      to: `${layout.appenddirname}/${name}`,
      from: { snapshotPath: `${SNAPSHOT_PATHS.aofDir}/${name}` },
    }));
    return { aof: "restored", files: [rdb, ...files] };
  }
  const base = `${layout.appendfilename}.1.base.rdb`;
  return {
    aof: "rebuilt-from-rdb",
    files: [
      rdb,
      { to: `${layout.appenddirname}/${base}`, from: { copyOf: layout.dbfilename } },
      {
        to: `${layout.appenddirname}/${layout.appendfilename}.manifest`,
        from: { text: baseOnlyManifest(base) },
      },
    ],
  };
}
