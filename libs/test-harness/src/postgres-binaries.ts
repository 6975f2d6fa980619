import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { BinaryNotFoundError } from "./errors.js";
import { findOnPath, isExecutableFile } from "./find-executable.js";

const DEBIAN_ROOT = "/usr/lib/postgresql";
const REQUIRED = ["initdb", "pg_ctl", "postgres"];

/**
 * The directory holding initdb/pg_ctl/postgres: `PWDR_TEST_PG_BIN`, else Debian's highest
 * /usr/lib/postgresql/<major>/bin (not on PATH there), else the directory of `pg_ctl` on PATH.
 */
export function postgresBinDir(): string {
  const fromEnv = process.env.PWDR_TEST_PG_BIN;
  if (fromEnv) {
    if (hasServerBinaries(fromEnv)) return fromEnv;
    throw new BinaryNotFoundError(
      `PWDR_TEST_PG_BIN=${fromEnv} does not contain ${REQUIRED.join(", ")}; fix or unset it`,
    );
  }
  const found = debianBinDirs().find(hasServerBinaries) ?? pathBinDir();
  if (found) return found;
  throw new BinaryNotFoundError(
    `PostgreSQL server binaries (${REQUIRED.join(", ")}) not found in ${DEBIAN_ROOT}/*/bin or on PATH; ` +
      "install them (`apt-get install postgresql`) or set PWDR_TEST_PG_BIN to their directory",
  );
}

function hasServerBinaries(dir: string): boolean {
  return REQUIRED.every((name) => isExecutableFile(join(dir, name)));
}

function debianBinDirs(): string[] {
  try {
    return readdirSync(DEBIAN_ROOT)
      .filter((name) => /^\d+(\.\d+)?$/.test(name))
      .sort((a, b) => Number(b) - Number(a))
      .map((version) => join(DEBIAN_ROOT, version, "bin"));
  } catch {
    return [];
  }
}

function pathBinDir(): string | undefined {
  const pgCtl = findOnPath("pg_ctl");
  return pgCtl && hasServerBinaries(dirname(pgCtl)) ? dirname(pgCtl) : undefined;
}
