import { hostname } from "node:os";
import { isRepoError, RepoError, type Repository } from "@pwdr/repo";
import type { SourceProgress } from "@pwdr/sources";
import { findRecoveryPoint } from "../recovery-point/find-recovery-points.js";
import type { StoredRecoveryPoint } from "../recovery-point/recovery-point.js";
import { checkServerVersions, type VersionCheck } from "./check-versions.js";
import { checkMapping, type RestoreMapping } from "./mapping.js";
import { type HostRestorePlanInput, type PlanEntry, planHostRestore } from "./plan-host-restore.js";
import { replacementMapping } from "./replacement-layout.js";
import type { StepReport } from "./restore-step.js";
import { runStep, type StepContext } from "./run-step.js";

export interface HostRestoreOptions extends Omit<HostRestorePlanInput, "point"> {
  /** "latest" (the newest complete one) or a recovery point id or unique prefix. */
  recoveryPoint: string;
  /** Whose recovery points: the target definition's host, else this machine's name (any host's for a replacement). */
  fromHost?: string;
  /**
   * Restoring another host's point onto this one (a DR replacement reading
   * the failed host's own repository): points of any host name are taken,
   * every chosen source must exist in `target` with its kind and goes where
   * `target` says (its servers, databases and paths, paired with the
   * recorded ones), and the target servers must not be older than the
   * point's. Refusals come before anything is touched, dry runs included.
   */
  replacement?: boolean;
  /** Plan and report, touch nothing. */
  dryRun?: boolean;
  /** Each step as it starts and ends, for progress bars and controller events. */
  onStep?: (step: StepReport) => void;
  onProgress?: (p: SourceProgress & { source?: string }) => void;
  now?: () => Date;
}

export interface HostRestoreReport {
  recoveryPoint: Pick<StoredRecoveryPoint, "id" | "host" | "startedAt" | "status" | "appVersion">;
  dryRun: boolean;
  status: "planned" | "done" | "failed";
  steps: StepReport[];
  /** Wall time of the run, from its start to the last step (healthy, when there is a health check). */
  durationMs: number;
  /** Age of the recovery point's data when the run ended: the RPO achieved. */
  rpoMs: number;
  /** A replacement's PostgreSQL and Redis versions beside the point's (all compatible, or it was refused). */
  versions?: VersionCheck[];
  /** What went wrong and the state the host is left in, when a step failed. */
  failure?: string;
}

/**
 * Restores a host from a recovery point in the runbook's order: stop
 * services → database → Redis → configuration → start services → health,
 * with application data restored beside the database, Redis and
 * configuration steps. The first failure ends the run; the steps that did
 * not start are reported as skipped.
 */
export async function restoreHost(repo: Repository, options: HostRestoreOptions): Promise<HostRestoreReport> {
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  checkMapping(options.mapping ?? {});
  const point = await findRecoveryPoint(repo, options.recoveryPoint, hostFilter(options));
  const { mapping, versions } = await replacementLayout(point, options);
  const plan = planHostRestore({ ...options, mapping, point });
  const steps: StepReport[] = plan.map((entry) => ({ ...publicPart(entry), status: "pending" }));
  const report = (status: HostRestoreReport["status"], failure?: string): HostRestoreReport => ({
    recoveryPoint: summaryOf(point),
    dryRun: options.dryRun ?? false,
    status,
    steps,
    durationMs: Math.round(performance.now() - started),
    rpoMs: now().getTime() - new Date(point.startedAt).getTime(),
    ...(versions ? { versions } : {}),
    ...(failure ? { failure } : {}),
  });
  // A path-mapped tree restore looks its paths up in the snapshot's trees before the
  // restorer loads the index: on a freshly opened repository those blobs would be "missing".
  if (options.include?.length || !options.dryRun) await repo.loadIndex();
  if (options.include?.length) await measureSelection(repo, plan, steps, { ...options, mapping });
  if (options.dryRun) return report("planned");
  const failure = await runSteps(repo, plan, steps, { ...options, mapping });
  return report(failure ? "failed" : "done", failure);
}

/**
 * Walks the included paths of the tree step without writing, before any step
 * runs (services included): a path outside the snapshot, or one it lacks, is
 * refused here, and the step's bytes become those of the selection.
 */
async function measureSelection(
  repo: Repository,
  plan: PlanEntry[],
  steps: StepReport[],
  options: HostRestoreOptions,
): Promise<void> {
  const i = plan.findIndex((entry) => entry.include !== undefined);
  const [entry, step] = [plan[i] as PlanEntry, steps[i] as StepReport];
  const ctx = { repo, mapping: options.mapping ?? {}, targetPrefix: options.targetPrefix ?? "/" };
  const selection = await runStep(entry, { ...ctx, dryRun: true, onProgress: () => {} });
  step.bytes = selection.bytes as number;
  if (options.dryRun) step.result = selection;
}

function hostFilter(options: HostRestoreOptions): { host?: string } {
  if (options.fromHost) return { host: options.fromHost };
  if (options.replacement) return {};
  return { host: options.target?.host ?? hostname() };
}

/** A replacement's mapping into its own layout (explicit entries win) and its version checks. */
async function replacementLayout(
  point: StoredRecoveryPoint,
  options: HostRestoreOptions,
): Promise<{ mapping: RestoreMapping; versions?: VersionCheck[] }> {
  const given = options.mapping ?? {};
  if (!options.replacement) return { mapping: given };
  if (!options.target) {
    throw new RepoError("invalid_argument", "a replacement restore needs the target host's definition");
  }
  const own = replacementMapping(point, options.target, options.only);
  const mapping = {
    ...given,
    paths: { ...own.paths, ...given.paths },
    databases: { ...own.databases, ...given.databases },
  };
  return { mapping, versions: await checkServerVersions(point, options.target, options.only) };
}

/**
 * Runs the plan in order. Application data has no place in the runbook's
 * chain (database → Redis → configuration) and depends on none of it, so its
 * restores start at once and run beside that chain; the services start only
 * after they end. After the first failure nothing new starts; what already
 * runs is let finish, and what never started is reported as skipped.
 */
async function runSteps(
  repo: Repository,
  plan: PlanEntry[],
  steps: StepReport[],
  options: HostRestoreOptions,
): Promise<string | undefined> {
  const ctx = { repo, mapping: options.mapping ?? {}, targetPrefix: options.targetPrefix ?? "/" };
  const run = (i: number) => runOne(plan[i] as PlanEntry, steps[i] as StepReport, ctx, options);
  const anyFailed = () => steps.some((s) => s.status === "failed");
  const dataIndexes = plan.flatMap((entry, i) => (entry.kind === "restore-files" ? [i] : []));
  let data: Promise<boolean[]> | undefined;
  const startData = () => {
    data ??= Promise.all(dataIndexes.map(run));
    return data;
  };
  for (const [i, entry] of plan.entries()) {
    if (entry.kind === "restore-files") continue;
    // The data restore begins once the services are down, with the first step after that.
    if (entry.kind !== "stop-services") {
      const needsData = entry.kind === "start-services" || entry.kind === "verify-health";
      const pending = startData();
      if (needsData) await pending;
    }
    if (anyFailed() || !(await run(i))) break;
  }
  if (!anyFailed()) await startData();
  await data;
  const failed = steps.find((s) => s.status === "failed");
  if (!failed) return undefined;
  for (const step of steps) if (step.status === "pending") step.status = "skipped";
  return failureText(failed, steps);
}

/** One step: its status, duration, result or error recorded on `step`; true when it succeeded. */
async function runOne(
  entry: PlanEntry,
  step: StepReport,
  ctx: Omit<StepContext, "onProgress">,
  options: HostRestoreOptions,
): Promise<boolean> {
  step.status = "running";
  options.onStep?.({ ...step });
  const started = performance.now();
  try {
    const onProgress = (p: SourceProgress) =>
      options.onProgress?.({ ...p, ...(entry.source ? { source: entry.source } : {}) });
    step.result = await runStep(entry, { ...ctx, onProgress });
    step.status = "done";
  } catch (err) {
    step.status = "failed";
    step.error = isRepoError(err)
      ? { code: err.code, message: err.message }
      : { code: "source_failed", message: String((err as Error).message ?? err) };
  }
  step.durationMs = Math.round(performance.now() - started);
  options.onStep?.({ ...step });
  return step.status === "done";
}

function failureText(failed: StepReport, steps: StepReport[]): string {
  const stopped = steps.some((s) => s.kind === "stop-services" && s.status === "done");
  const started = steps.some((s) => s.kind === "start-services" && s.status === "done");
  const state = stopped && !started ? "; the application services were stopped and are left stopped" : "";
  const what = failed.source ? `${failed.kind} (${failed.source})` : failed.kind;
  return `the host restore stopped at ${what}: ${failed.error?.message}${state}. Fix the cause and run the restore again: every step is safe to repeat`;
}

function publicPart(entry: PlanEntry) {
  const {
    def: _def,
    snapshotId: _snapshot,
    include: _include,
    services: _services,
    health: _health,
    ...step
  } = entry;
  return step;
}

function summaryOf(point: StoredRecoveryPoint): HostRestoreReport["recoveryPoint"] {
  return {
    id: point.id,
    host: point.host,
    startedAt: point.startedAt,
    status: point.status,
    ...(point.appVersion ? { appVersion: point.appVersion } : {}),
  };
}
