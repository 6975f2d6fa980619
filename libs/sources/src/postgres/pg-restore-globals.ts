import { dumpFile, type Repository, type Snapshot } from "@pwdr/repo";
import { maintenanceDatabase, type PgConnection } from "./pg-connection.js";
import { sourceFailed } from "./pg-errors.js";
import { GLOBALS_PATH } from "./pg-layout.js";
import { runToolWithInput } from "./pg-tool.js";

/** Roles that exist already (the superuser always does) are expected, and harmless: the ALTERs that follow still apply. */
const TOLERATED = /ERROR:\s+role ".*" already exists/;

/**
 * Replays `pg_dumpall --globals-only` through psql. psql goes on after an
 * error so existing roles are skipped; any other error fails the restore.
 */
export async function restoreGlobals(
  repo: Repository,
  snapshot: Snapshot,
  conn: PgConnection,
): Promise<void> {
  const { stderr } = await runToolWithInput(
    {
      conn,
      tool: "psql",
      args: ["--no-psqlrc", "--quiet", "--no-password", "-f", "-"],
      database: maintenanceDatabase(conn),
      what: "psql restoring roles and tablespaces",
      stderrLimit: 1024 * 1024,
    },
    (stdin) => dumpFile(repo, snapshot, GLOBALS_PATH, stdin),
  );
  const errors = stderr.split("\n").filter((line) => /\b(ERROR|FATAL):/.test(line) && !TOLERATED.test(line));
  if (errors.length > 0) {
    throw sourceFailed(conn, `restoring roles failed: ${errors.slice(0, 10).join("; ")}`);
  }
}
