import { RepoError } from "@pwdr/repo";
import type { HostDefinition } from "../definition/host-definition.js";
import { serverFacts } from "../definition/server-facts.js";
import type { RecoveryPoint } from "../recovery-point/recovery-point.js";
import { chosenOutcomes } from "./replacement-layout.js";
import { ReplacementRefusal } from "./replacement-refusal.js";

/** A server source's version in the recovery point beside the target server's. */
export interface VersionCheck {
  source: string;
  kind: "postgres" | "redis";
  backup: string;
  target: string;
}

/**
 * Asks each PostgreSQL and Redis server the point restores into for its
 * version and refuses data from a newer one: a newer PostgreSQL major
 * (pg_restore into an older server fails midway) or a newer Redis (its
 * RDB/AOF format may be unreadable to the older one). Nothing is changed.
 */
export async function checkServerVersions(
  point: RecoveryPoint,
  target: HostDefinition,
  only: readonly string[] | undefined,
): Promise<VersionCheck[]> {
  const checks: VersionCheck[] = [];
  for (const outcome of chosenOutcomes(point, only)) {
    const own = target.sources.find((t) => t.name === outcome.name);
    if (!own || (own.kind !== "postgres" && own.kind !== "redis") || !outcome.version) continue;
    const facts = await serverFacts(own).catch((err: Error) => {
      throw new RepoError(
        "source_failed",
        `cannot ask ${own.kind} source "${own.name}" at ${own.connection.host}:${own.connection.port} ` +
          `for its version (${err.message}); start it before restoring into it`,
      );
    });
    const check = { source: own.name, kind: own.kind, backup: outcome.version, target: facts?.version ?? "" };
    refuseNewer(check);
    checks.push(check);
  }
  return checks;
}

function refuseNewer(check: VersionCheck): void {
  if (check.kind === "postgres") {
    const [backup, target] = [majorOf(check.backup), majorOf(check.target)];
    if (backup > target) {
      throw new ReplacementRefusal(
        "version_incompatible",
        `source "${check.source}" was backed up from PostgreSQL ${check.backup}, a newer major than this ` +
          `host's PostgreSQL ${check.target}; install PostgreSQL ${backup} or later here before restoring`,
      );
    }
    return;
  }
  if (compareVersions(check.backup, check.target) > 0) {
    throw new ReplacementRefusal(
      "version_incompatible",
      `source "${check.source}" was backed up from Redis ${check.backup}, newer than this host's Redis ` +
        `${check.target}, whose RDB/AOF reader may not load it; install Redis ${check.backup} or later here`,
    );
  }
}

/** "16.4 (Debian 16.4-1)" → 16; "9.6.24" → 9.6 (before 10, the first two numbers made the major). */
function majorOf(version: string): number {
  const [first = 0, second = 0] = version.split(".").map((p) => Number.parseInt(p, 10) || 0);
  return first >= 10 ? first : first + second / 10;
}

/** Numeric comparison of dotted versions; missing parts count as 0. */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map((p) => Number.parseInt(p, 10) || 0);
  const pb = b.split(".").map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}
