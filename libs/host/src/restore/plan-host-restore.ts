import { RepoError } from "@pwdr/repo";
import { mapPath, pathMapEntries } from "@pwdr/sources";
import type {
  HealthCheck,
  HostDefinition,
  ServiceControl,
  SourceDefinition,
} from "../definition/host-definition.js";
import type { RecoveryPoint, SourceOutcome } from "../recovery-point/recovery-point.js";
import { serviceHooks } from "../services/service-hooks.js";
import { type RestoreMapping, targetSource } from "./mapping.js";
import { type PlannedStep, STEP_ORDER, type StepKind } from "./restore-step.js";

export interface HostRestorePlanInput {
  point: RecoveryPoint;
  /** The host restored onto; its sources, services and health win over the recorded ones. */
  target?: HostDefinition;
  mapping?: RestoreMapping;
  /** Restore only these sources (services are still stopped and started). */
  only?: string[];
  /** Restore the sources that succeeded in a partial recovery point. */
  allowPartial?: boolean;
  /** Root for configuration and data trees not covered by the path map; "/" when omitted. */
  targetPrefix?: string;
  /**
   * Restore only these paths (files or directories, absolute as in the
   * snapshot) of the one configuration or data source chosen; everything
   * when empty.
   */
  include?: string[];
}

/** A planned step with what executing it needs. */
export interface PlanEntry extends PlannedStep {
  def?: SourceDefinition;
  snapshotId?: string;
  /** The paths of a tree source to restore; all of it when absent. */
  include?: string[];
  services?: ServiceControl;
  health?: HealthCheck;
}

/**
 * The steps of restoring `point`, in the runbook's order, each saying what it
 * will touch. Everything that can be refused is refused here, before any
 * step runs: a partial point, unknown sources, a Redis without the data dir
 * or service control a files-mode restore needs.
 */
export function planHostRestore(input: HostRestorePlanInput): PlanEntry[] {
  const mapping = input.mapping ?? {};
  const chosen = chooseSources(input);
  const include = input.include?.length ? input.include : undefined;
  if (include) checkIncludeSource(chosen, input.point);
  const entries: PlanEntry[] = [];
  // A target definition describes the host restored onto, services included.
  const services = input.target ? input.target.services : input.point.services;
  const health = input.target ? input.target.health : input.point.health;
  if (services) entries.push(serviceStep("stop-services", services));
  for (const outcome of chosen) {
    const def = targetSource(outcome.definition, input.target?.sources, mapping);
    entries.push(sourceStep(outcome, def, mapping, input.targetPrefix ?? "/", include));
  }
  if (services) entries.push(serviceStep("start-services", services));
  if (health) {
    entries.push({
      kind: "verify-health",
      description: `GET ${health.url} until it answers ${health.expectStatus} (${health.attempts} attempts)`,
      touches: [],
      health,
    });
  }
  return entries.sort((a, b) => STEP_ORDER.indexOf(a.kind) - STEP_ORDER.indexOf(b.kind));
}

function chooseSources(input: HostRestorePlanInput): SourceOutcome[] {
  const { point } = input;
  const unknown = (input.only ?? []).filter((name) => !point.sources.some((s) => s.name === name));
  if (unknown.length > 0) {
    const known = point.sources.map((s) => s.name).join(", ");
    throw new RepoError(
      "invalid_argument",
      `not in recovery point ${point.id}: ${unknown.join(", ")} (it has ${known})`,
    );
  }
  const wanted = point.sources.filter((s) => !input.only?.length || input.only.includes(s.name));
  const failed = wanted.filter((s) => s.status !== "ok");
  if (failed.length > 0 && !input.allowPartial) {
    const list = failed.map((s) => `${s.name} (${s.error?.message ?? "failed"})`).join("; ");
    throw new RepoError(
      "invalid_argument",
      `recovery point ${point.id} is ${point.status}: ${list}. Pick a complete one, ` +
        "or allow a partial restore of the sources that succeeded",
    );
  }
  return wanted.filter((s) => s.status === "ok");
}

/** Sub-paths exist only in a file tree: one configuration or data source, or it is unclear whose paths they are. */
function checkIncludeSource(chosen: SourceOutcome[], point: RecoveryPoint): void {
  if (chosen.length !== 1) {
    const names = chosen.map((s) => `${s.name} (${s.kind})`).join(", ");
    throw new RepoError(
      "invalid_argument",
      `paths to include belong to one configuration or data source; this restore has ${chosen.length} ` +
        `(${names || `none of recovery point ${point.id}`}): name one source`,
    );
  }
  const [only] = chosen as [SourceOutcome];
  if (only.kind !== "config" && only.kind !== "files") {
    throw new RepoError(
      "invalid_argument",
      `source "${only.name}" is ${only.kind}: its snapshot is a dump with no sub-paths to include; ` +
        "include works with configuration and data sources",
    );
  }
}

function serviceStep(kind: "stop-services" | "start-services", services: ServiceControl): PlanEntry {
  const commands = serviceHooks(services, "the application services").describe();
  const command = kind === "stop-services" ? commands.stop : commands.start;
  return {
    kind,
    description: `${kind === "stop-services" ? "stop" : "start"} the application services: ${command}`,
    touches: [command],
    services,
  };
}

function sourceStep(
  outcome: SourceOutcome,
  def: SourceDefinition,
  mapping: RestoreMapping,
  prefix: string,
  include: string[] | undefined,
): PlanEntry {
  const base = {
    kind: `restore-${def.kind}` as StepKind,
    source: def.name,
    def,
    snapshotId: outcome.snapshotId as string,
    ...(outcome.bytes === undefined ? {} : { bytes: outcome.bytes }),
  };
  switch (def.kind) {
    case "postgres": {
      const recorded = outcome.definition.kind === "postgres" ? outcome.definition.databases : def.databases;
      const targets = recorded.map((db) => mapping.databases?.[db] ?? db);
      const where = `${def.connection.host}:${def.connection.port}`;
      return {
        ...base,
        description: `drop and recreate ${targets.join(", ")} on PostgreSQL ${where}, roles first, then verify row counts`,
        touches: targets.map((db) => `postgres://${where}/${db}`),
      };
    }
    case "redis":
      return { ...base, ...redisStep(def) };
    case "config":
    case "files": {
      const recorded = "paths" in outcome.definition ? outcome.definition.paths : def.paths;
      const placements = (include ?? recorded).map((p) => placeOf(p, mapping.paths ?? {}, prefix));
      const what = def.kind === "config" ? "configuration" : "application data";
      return {
        ...base,
        ...(include ? { include } : {}),
        description: `restore ${include ? `only these paths of the ${what}` : what}: ${placements.join(", ")}`,
        touches: placements.map((p) => p.split(" → ").at(-1) as string),
      };
    }
  }
}

function redisStep(def: Extract<SourceDefinition, { kind: "redis" }>): {
  description: string;
  touches: string[];
} {
  const where = `${def.connection.host}:${def.connection.port}`;
  if (def.mode === "logical") {
    return {
      description: `RESTORE every key into Redis ${where} (keys not in the backup stay)`,
      touches: [`redis://${where}`],
    };
  }
  if (!def.dataDir || !def.service) {
    throw new RepoError(
      "invalid_argument",
      `source "${def.name}" (Redis, files mode) needs dataDir and service in the target definition to be restored: ` +
        "the restore stops Redis, replaces its files and starts it again",
    );
  }
  const hooks = serviceHooks(def.service, `Redis "${def.name}"`).describe();
  return {
    description: `stop Redis (${hooks.stop}), replace the RDB/AOF in ${def.dataDir}, start it (${hooks.start}), verify key counts`,
    touches: [def.dataDir, `redis://${where}`],
  };
}

function placeOf(path: string, map: Record<string, string>, prefix: string): string {
  const mapped = mapPath(path, pathMapEntries(map));
  const target = mapped ?? (prefix === "/" ? path : `${prefix}${path}`);
  return target === path ? path : `${path} → ${target}`;
}
