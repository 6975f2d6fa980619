import type { SourceDefinition } from "../definition/host-definition.js";
import type { RecoveryPoint, SourceOutcome } from "../recovery-point/recovery-point.js";
import type { StepReport } from "../restore/restore-step.js";
import { checkFileTree } from "./check-file-tree.js";
import { checkPostgres } from "./check-postgres.js";
import { checkRedis } from "./check-redis.js";
import type { DrillAssertion, SourceDrill } from "./drill-result.js";
import type { SandboxTarget } from "./sandbox.js";
import type { SourceMeta } from "./source-meta.js";

/** The checks of every source whose restore step finished; a check that cannot run is a failed assertion. */
export async function checkSources(
  point: RecoveryPoint,
  steps: readonly StepReport[],
  target: SandboxTarget,
  meta: SourceMeta,
): Promise<SourceDrill[]> {
  const restored = new Set(steps.filter((s) => s.status === "done" && s.source).map((s) => s.source));
  const drills: SourceDrill[] = [];
  for (const outcome of point.sources.filter((s) => restored.has(s.name))) {
    const sandbox = target.definition.sources.find((s) => s.name === outcome.name) as SourceDefinition;
    const assertions = await checkSource(outcome, sandbox, target.targetPrefix, meta).catch(
      (err: Error): DrillAssertion[] => [
        { check: `checks of ${outcome.name}`, expected: "to run", actual: err.message, passed: false },
      ],
    );
    drills.push({ name: outcome.name, kind: outcome.kind, assertions });
  }
  return drills;
}

function checkSource(
  outcome: SourceOutcome,
  sandbox: SourceDefinition,
  prefix: string,
  meta: SourceMeta,
): Promise<DrillAssertion[]> {
  const recorded = meta.get(outcome.name) ?? {};
  switch (sandbox.kind) {
    case "postgres":
      return checkPostgres(outcome, recorded, sandbox);
    case "redis":
      return checkRedis(outcome, recorded, sandbox);
    case "config":
    case "files":
      return checkFileTree(outcome, prefix);
  }
}
