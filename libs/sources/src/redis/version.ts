import { invalidArgument } from "./failure.js";

/** Numeric comparison of dotted versions ("7.0.15" < "7.2.4"); missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}

/** The newest RDB format each Redis release line writes and reads. */
const RDB_FORMAT_BY_RELEASE: readonly [string, number][] = [
  ["8.0", 12],
  ["7.4", 12],
  ["7.2", 11],
  ["7.0", 10],
  ["5.0", 9],
  ["4.0", 8],
  ["3.2", 7],
];

/** Releases from here on are not in the table; their format is not guessed. */
const FIRST_UNKNOWN_RELEASE = "8.1";

/** The newest RDB format a Redis version can load; undefined when the version is not in the table. */
export function maxRdbFormat(version: string): number | undefined {
  if (compareVersions(version, FIRST_UNKNOWN_RELEASE) >= 0) return undefined;
  return RDB_FORMAT_BY_RELEASE.find(([release]) => compareVersions(version, release) >= 0)?.[1];
}

/** The format number of an RDB header "REDIS0010"; undefined if the bytes are not an RDB. */
export function rdbFormatOf(header: Buffer): number | undefined {
  const text = header.subarray(0, 9).toString("latin1");
  return /^REDIS\d{4}$/.test(text) ? Number(text.slice(5)) : undefined;
}

/**
 * Redis refuses (or, for an AOF, may fail midway through) data written by a
 * newer release; saying so before anything is stopped keeps the old data up.
 */
export function assertRestorable(backupVersion: string, targetVersion: string, rdbFormat?: number): void {
  if (compareVersions(backupVersion, targetVersion) > 0) {
    throw invalidArgument(
      `the backup was taken from Redis ${backupVersion}, newer than the target Redis ${targetVersion}; ` +
        `upgrade the target to ${backupVersion} or later before restoring`,
    );
  }
  const max = maxRdbFormat(targetVersion);
  if (rdbFormat !== undefined && max !== undefined && rdbFormat > max) {
    throw invalidArgument(
      `the backed-up RDB has format ${rdbFormat}, but Redis ${targetVersion} reads formats up to ${max}; ` +
        "upgrade the target Redis before restoring",
    );
  }
}
