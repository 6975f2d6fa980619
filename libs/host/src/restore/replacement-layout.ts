import { RepoError } from "@pwdr/repo";
import type { HostDefinition, SourceDefinition } from "../definition/host-definition.js";
import type { RecoveryPoint, SourceOutcome } from "../recovery-point/recovery-point.js";
import type { RestoreMapping } from "./mapping.js";
import { ReplacementRefusal } from "./replacement-refusal.js";

/** The point's sources a restore takes: all, or those named in `only` (unknown names are the plan's to refuse). */
export function chosenOutcomes(point: RecoveryPoint, only: readonly string[] | undefined): SourceOutcome[] {
  return point.sources.filter((s) => !only?.length || only.includes(s.name));
}

/**
 * Where another host's recovery point lands on this one: each source into
 * the target's source of the same name and kind (its server, its
 * databases, its paths). A source the target lacks is refused, naming it,
 * before anything is touched.
 */
export function replacementMapping(
  point: RecoveryPoint,
  target: HostDefinition,
  only: readonly string[] | undefined,
): RestoreMapping {
  const chosen = chosenOutcomes(point, only);
  const missing = chosen.filter(
    (s) => !target.sources.some((t) => t.name === s.name && t.kind === s.definition.kind),
  );
  if (missing.length > 0) {
    const list = missing.map((s) => `${s.name} (${s.definition.kind})`).join(", ");
    const has = target.sources.map((t) => `${t.name} (${t.kind})`).join(", ");
    throw new ReplacementRefusal(
      "source_missing",
      `recovery point ${point.id} of ${point.host} has ${list}, which this host's config lacks (it has ${has}); ` +
        "add a source of that name and kind, saying where it goes on this host, or restore only the others",
    );
  }
  const mapping: Required<Pick<RestoreMapping, "paths" | "databases">> = { paths: {}, databases: {} };
  for (const outcome of chosen) {
    const own = target.sources.find((t) => t.name === outcome.name) as SourceDefinition;
    Object.assign(mapping.databases, pairUp(outcome.definition, own, "databases"));
    Object.assign(mapping.paths, pairUp(outcome.definition, own, "paths"));
    Object.assign(mapping.paths, pairUp(outcome.definition, own, "optionalPaths"));
  }
  return mapping;
}

type ListField = "databases" | "paths" | "optionalPaths";

/**
 * Recorded entries → the target's: an entry both have stays itself, the rest
 * pair up in order. Unequal leftovers cannot be placed without guessing.
 */
function pairUp(recorded: SourceDefinition, own: SourceDefinition, field: ListField): Record<string, string> {
  const from = listOf(recorded, field);
  const to = listOf(own, field);
  const leftFrom = from.filter((x) => !to.includes(x));
  const leftTo = to.filter((x) => !from.includes(x));
  if (leftFrom.length > 0 && leftFrom.length !== leftTo.length) {
    throw new RepoError(
      "invalid_argument",
      `source "${recorded.name}": the recovery point has ${field} ${from.join(", ")}, this host's config ` +
        `${to.join(", ") || "none"}; cannot tell where ${leftFrom.join(", ")} go. List as many ${field} ` +
        "in this host's source, in the same order",
    );
  }
  return Object.fromEntries(leftFrom.map((x, i) => [x, leftTo[i] as string]));
}

function listOf(def: SourceDefinition, field: ListField): string[] {
  const value = (def as Partial<Record<ListField, string[]>>)[field];
  return value ?? [];
}
