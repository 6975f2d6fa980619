import { RepoError, type Repository } from "@pwdr/repo";
import { findRecoveryPoint } from "../recovery-point/find-recovery-points.js";
import type { StoredRecoveryPoint } from "../recovery-point/recovery-point.js";
import { planHostRestore } from "../restore/plan-host-restore.js";
import { restoreHost } from "../restore/restore-host.js";
import type { StepReport } from "../restore/restore-step.js";
import { checkSources } from "./check-sources.js";
import type { DrillResult, SourceDrill } from "./drill-result.js";
import { openSandbox, type Sandbox, type SandboxTarget } from "./sandbox.js";
import { loadSourceMeta, redisRecordsOf, type SourceMeta } from "./source-meta.js";

export interface DrillOptions {
  /** "latest" (the newest complete one, the default) or a recovery point id or unique prefix. */
  recoveryPoint?: string;
  /** Whose recovery points; any host's when omitted (a host's own repository on the controller holds only its points). */
  fromHost?: string;
  /** Where the sandbox directory is made (its servers' data and the restored trees); removed afterwards. */
  workDir: string;
  /** Each restore step as it starts and ends. */
  onStep?: (step: StepReport) => void;
}

const FAILURES_SHOWN = 5;

/**
 * Restores a recovery point into a sandbox (its own PostgreSQL and Redis,
 * a temporary directory for configuration and data), checks what came
 * back against what the backup recorded, and tears the sandbox down. The
 * live host's servers and paths are never touched: every restore step is
 * checked to target the sandbox before any runs. Failures, including a
 * sandbox that cannot start, are a failed result, not an exception.
 */
export async function runDrill(repo: Repository, options: DrillOptions): Promise<DrillResult> {
  const started = performance.now();
  const result: DrillResult = {
    host: options.fromHost ?? "",
    status: "failed",
    startedAt: new Date().toISOString(),
    restoreMs: 0,
    durationMs: 0,
    sources: [],
  };
  let sandbox: Sandbox | undefined;
  try {
    const point = await findRecoveryPoint(
      repo,
      options.recoveryPoint ?? "latest",
      options.fromHost ? { host: options.fromHost } : {},
    );
    result.recoveryPoint = point.id;
    result.host = point.host;
    const meta = await loadSourceMeta(repo, point);
    sandbox = await openSandbox(point, {
      workDir: options.workDir,
      redisRecords: redisRecordsOf(point, meta),
    });
    Object.assign(result, await drillIn(repo, point, sandbox, meta, options));
  } catch (err) {
    result.failure = `the drill could not run: ${(err as Error).message}`;
  } finally {
    await sandbox?.close();
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

async function drillIn(
  repo: Repository,
  point: StoredRecoveryPoint,
  sandbox: Sandbox,
  meta: SourceMeta,
  options: DrillOptions,
): Promise<Pick<DrillResult, "status" | "restoreMs" | "sources" | "failure">> {
  const target = sandbox.definitionFor(point);
  assertConfined(point, target, sandbox);
  const started = performance.now();
  const report = await restoreHost(repo, {
    recoveryPoint: point.id,
    fromHost: point.host,
    target: target.definition,
    mapping: target.mapping,
    targetPrefix: target.targetPrefix,
    ...(options.onStep ? { onStep: options.onStep } : {}),
  });
  const restoreMs = Math.round(performance.now() - started);
  const sources = await checkSources(point, report.steps, target, meta);
  const failure = report.failure ?? failedAssertions(sources);
  return { status: failure ? "failed" : "passed", restoreMs, sources, ...(failure ? { failure } : {}) };
}

/** Refuses to run a plan with any step that would change something outside the sandbox. */
function assertConfined(point: StoredRecoveryPoint, target: SandboxTarget, sandbox: Sandbox): void {
  const plan = planHostRestore({
    point,
    target: target.definition,
    mapping: target.mapping,
    targetPrefix: target.targetPrefix,
  });
  const outside = plan.flatMap((step) => step.touches.filter((t) => !sandbox.owns(t)));
  if (outside.length > 0) {
    throw new RepoError(
      "invalid_argument",
      `the drill's restore would touch ${outside.join(", ")} outside its sandbox`,
    );
  }
}

function failedAssertions(sources: SourceDrill[]): string | undefined {
  const failed = sources.flatMap((s) =>
    s.assertions
      .filter((a) => !a.passed)
      .map((a) => `${s.name}: ${a.check}: expected ${a.expected}, got ${a.actual}`),
  );
  if (failed.length === 0) return undefined;
  const more = failed.length > FAILURES_SHOWN ? ` (and ${failed.length - FAILURES_SHOWN} more)` : "";
  return `${failed.length} check(s) failed: ${failed.slice(0, FAILURES_SHOWN).join("; ")}${more}`;
}
