// What a restore job's `include` may name, checked against the recovery point
// before the job is queued: the agent would refuse the rest, but only after
// the operator waited for it to be dispatched.
import type { Catalog } from "@pwdr/catalog";
import { InvalidJobSpecError } from "./job-errors.js";
import type { RestoreSpec, SpecProblem } from "./job-spec.js";

/** Source kinds whose snapshots are file trees; a PostgreSQL dump or a Redis RDB has no sub-paths. */
const TREE_KINDS = new Set(["config", "files"]);

/** An absolute path that names exactly one place: no ".", "..", or NUL that the agent would refuse. */
function pathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "must be an absolute path inside the snapshot, e.g. /data/scans";
  if (path.includes("\0")) return "must not contain a NUL character";
  if (path.split("/").some((c) => c === "." || c === "..")) return 'must not have "." or ".." components';
  return undefined;
}

/**
 * Refuses an `include` with a malformed path, or that does not go with
 * exactly one config or files source of the recovery point (named in
 * `sources`), as an invalid spec naming the field.
 */
export async function checkRestoreInclude(db: Catalog, spec: RestoreSpec): Promise<void> {
  const include = spec.include ?? [];
  if (include.length === 0) return;
  const problems: SpecProblem[] = include.flatMap((path, i) => {
    const message = pathProblem(path);
    return message ? [{ path: `/include/${i}`, message }] : [];
  });
  if (problems.length > 0) throw new InvalidJobSpecError(problems);
  const sources = spec.sources ?? [];
  const snapshots = await db.snapshot.findMany({
    where: { recoveryPointId: spec.recoveryPointId },
    select: { sourceName: true, sourceKind: true },
    orderBy: { sourceName: "asc" },
  });
  const held = snapshots.map((s) => `${s.sourceName} (${s.sourceKind})`).join(", ") || "no snapshots";
  if (sources.length !== 1) {
    throw new InvalidJobSpecError([
      {
        path: "/sources",
        message: `include needs exactly one source, a config or files source of recovery point ${spec.recoveryPointId} (it holds ${held})`,
      },
    ]);
  }
  const source = snapshots.find((s) => s.sourceName === sources[0]);
  if (!source) {
    throw new InvalidJobSpecError([
      {
        path: "/sources/0",
        message: `recovery point ${spec.recoveryPointId} has no source "${sources[0]}" (it holds ${held})`,
      },
    ]);
  }
  if (!TREE_KINDS.has(source.sourceKind)) {
    throw new InvalidJobSpecError([
      {
        path: "/include",
        message: `source "${source.sourceName}" is ${source.sourceKind}: a database dump or a Redis RDB has no sub-paths; include works only with config and files sources`,
      },
    ]);
  }
}
