import { mkdir } from "node:fs/promises";
import type { HostDefinition, RecoveryPoint, ServiceControl } from "@pwdr/host";
import type {
  BackupSpec,
  DrillSpec,
  Job,
  PruneSpec,
  Retention,
  ServiceActionSpec,
  VerifySpec,
} from "@pwdr/protocol";
import { ServiceAction } from "@pwdr/protocol";
import { RepoError, type Repository, type RetentionPolicy } from "@pwdr/repo";
import { parseSubset } from "../commands/check.js";
import type { AgentConfig } from "../config/agent-config.js";
import { hostDefinitionOf } from "../config/load-agent-config.js";
import { summarizeCheck } from "../daemon/check-summary.js";
import { hostNameOf, openConfigRepository } from "../daemon/open-config-repository.js";
import { commandJob } from "./command-job.js";
import { healthJob } from "./health-job.js";
import { failureOf, retryableCode } from "./job-errors.js";
import { failed, type JobOutcome, RunStopped } from "./job-outcome.js";
import { type ExecutionContext, type Run, withRepository } from "./job-run.js";
import { restoreJob } from "./restore-job.js";

export type { ExecutionContext } from "./job-run.js";

/** Runs one job from the controller (or a policy schedule) to its outcome; never throws. */
export type JobExecutor = (job: Job, ctx: ExecutionContext) => Promise<JobOutcome>;

/** Without a config the agent has no sources and no repository: every job is refused, saying how to fix it. */
export const unconfiguredExecutor: JobExecutor = async () =>
  failed(
    "agent_not_configured",
    "this agent runs without a config, so it has no sources or repository to work with: write one " +
      "(`pwdr-agent config init --output /etc/pwdr/agent.yaml`) and start the agent with " +
      "`pwdr-agent run --data-dir <dir> -c /etc/pwdr/agent.yaml` (or `pwdr-agent daemon` with `controller:` in it)",
  );

/** The executor of an agent with a config: the job functions of the daemon, driven by the Job's spec. */
export function configuredExecutor(
  config: AgentConfig,
  open: (c: AgentConfig, otherHost?: string) => Promise<Repository> = openConfigRepository,
): JobExecutor {
  return async (job, ctx) => {
    const run: Run = { config, ctx, open: (otherHost) => open(config, otherHost) };
    try {
      return await dispatch(job, run);
    } catch (err) {
      const reason: unknown = ctx.signal.reason;
      if (ctx.signal.aborted && reason instanceof RunStopped) return reason.outcome;
      return { state: "failed", error: failureOf(err), details: {} };
    }
  };
}

function dispatch(job: Job, run: Run): Promise<JobOutcome> {
  const { spec } = job;
  switch (spec.case) {
    case "backup":
      return backup(spec.value, run);
    case "verify":
      return verify(spec.value, run);
    case "drill":
      return drill(spec.value, run);
    case "prune":
      return pruneJob(spec.value, run);
    case "restore":
      return restoreJob(spec.value, run);
    case "serviceAction":
      return serviceAction(spec.value, run);
    case "healthCheck":
      return healthJob(spec.value, run);
    case "command":
      return commandJob(spec.value, run);
    default:
      return Promise.resolve(
        failed("unsupported_job", "the job has no spec this agent knows; upgrade the agent"),
      );
  }
}

/** The name results give the repository: its path, or "controller" for the host's repository there. */
export function repositoryNameOf(config: AgentConfig): string {
  return config.repository.path ?? "controller";
}

function chooseSources(definition: HostDefinition, names: readonly string[]): HostDefinition {
  if (names.length === 0) return definition;
  const unknown = names.filter((n) => !definition.sources.some((s) => s.name === n));
  if (unknown.length > 0) {
    const known = definition.sources.map((s) => s.name).join(", ");
    throw new RepoError(
      "invalid_argument",
      `no source named ${unknown.join(", ")} on this host (it has ${known})`,
    );
  }
  return { ...definition, sources: definition.sources.filter((s) => names.includes(s.name)) };
}

async function backup(spec: BackupSpec, run: Run): Promise<JobOutcome> {
  const definition = chooseSources(hostDefinitionOf(run.config), spec.sources);
  const names = definition.sources.map((s) => s.name);
  const point = await withRepository(run, (repo) =>
    // createRecoveryPoint lives in @pwdr/host, loaded with the source drivers.
    import("@pwdr/host").then(({ createRecoveryPoint }) =>
      createRecoveryPoint(repo, definition, {
        tags: spec.tags,
        signal: run.ctx.signal,
        log: run.ctx.log,
        onProgress: (p) =>
          run.ctx.onProgress({
            phase: p.source,
            bytesDone: p.bytesDone,
            ...(p.bytesTotal ? { bytesTotal: p.bytesTotal } : {}),
            itemsDone: names.indexOf(p.source),
            itemsTotal: names.length,
            item: p.item ?? p.phase,
          }),
      }),
    ),
  );
  return backupOutcome(point, spec.repository || repositoryNameOf(run.config));
}

function backupOutcome(point: RecoveryPoint, repository: string): JobOutcome {
  const failedSources = point.sources.filter((s) => s.status === "failed");
  const firstCode = failedSources[0]?.error?.code ?? "source_failed";
  const state = point.status === "complete" ? "succeeded" : point.status;
  return {
    state,
    ...(failedSources.length > 0
      ? {
          error: {
            code: firstCode,
            message: failedSources.map((s) => `${s.name}: ${s.error?.message ?? "failed"}`).join("; "),
            retryable: retryableCode(firstCode),
          },
        }
      : {}),
    bytesRead: point.sources.reduce((n, s) => n + (s.bytes ?? 0), 0),
    bytesAdded: point.sources.reduce((n, s) => n + (s.addedBytes ?? 0), 0),
    recoveryPoint: point,
    repository,
    // The journal's shape for a backup: `status` and the metrics read the sources from it.
    details: {
      recoveryPoint: point.id,
      sources: point.sources.map(({ definition: _d, sample: _s, ...s }) => s),
    },
  };
}

async function verify(spec: VerifySpec, run: Run): Promise<JobOutcome> {
  const { checkRepository } = await import("@pwdr/repo");
  run.ctx.onProgress({ phase: "check", bytesDone: 0, item: spec.readDataSubset || "structure" });
  const report = await withRepository(run, (repo) =>
    checkRepository(repo, spec.readDataSubset ? { readData: parseSubset(spec.readDataSubset) } : {}),
  );
  const { details, failure } = summarizeCheck(report);
  if (!failure) return { state: "succeeded", details };
  return { state: "failed", error: { code: "check_failed", message: failure, retryable: false }, details };
}

async function drill(spec: DrillSpec, run: Run): Promise<JobOutcome> {
  const { runDrill } = await import("@pwdr/host");
  const { workDir } = run.config.drills;
  await mkdir(workDir, { recursive: true, mode: 0o711 });
  run.ctx.onProgress({ phase: "drill", bytesDone: 0, item: spec.recoveryPointId || "latest" });
  // A fleet drill reads another host's repository, which holds only that host's points.
  const result = await withRepository(
    run,
    (repo) =>
      runDrill(repo, {
        ...(spec.repository ? {} : { fromHost: hostNameOf(run.config) }),
        workDir,
        recoveryPoint: spec.recoveryPointId || "latest",
        onStep: (s) =>
          run.ctx.onProgress({ phase: s.kind, bytesDone: 0, ...(s.source ? { item: s.source } : {}) }),
      }),
    spec.repository || undefined,
  );
  const assertions = result.sources.flatMap((s) => s.assertions);
  const details = {
    recoveryPoint: result.recoveryPoint,
    fromHost: result.host,
    ...(spec.repository ? { repository: spec.repository } : {}),
    restoreMs: result.restoreMs,
    drillMs: result.durationMs,
    checks: assertions.length,
    failedChecks: assertions.filter((a) => !a.passed),
    sources: result.sources.map((s) => ({ name: s.name, kind: s.kind, checks: s.assertions.length })),
  };
  if (result.status === "passed") return { state: "succeeded", details };
  return {
    state: "failed",
    error: { code: "drill_failed", message: result.failure ?? "the drill failed", retryable: false },
    details,
  };
}

export function retentionOf(retention: Retention | undefined): RetentionPolicy {
  const policy: RetentionPolicy = {};
  if (!retention) return policy;
  const counts = ["keepLast", "keepHourly", "keepDaily", "keepWeekly", "keepMonthly", "keepYearly"] as const;
  for (const key of counts) if (retention[key] > 0) policy[key] = retention[key];
  if (retention.keepWithin) {
    policy.keepWithin =
      Number(retention.keepWithin.seconds) * 1000 + Math.round(retention.keepWithin.nanos / 1e6);
  }
  if (retention.keepTags.length > 0) policy.keepTags = retention.keepTags;
  return policy;
}

/** Forget by the job's retention, then prune (dry run: only the decisions). Refused for controller storage. */
async function pruneJob(spec: PruneSpec, run: Run): Promise<JobOutcome> {
  if (run.config.repository.controller) {
    return failed(
      "access_denied",
      "this host's repository is stored on the controller, where the agent may only add data: prune runs on the controller",
    );
  }
  const policy = retentionOf(spec.retention);
  if (Object.keys(policy).length === 0) {
    return failed("invalid_argument", "the prune job keeps nothing: give at least one retention rule");
  }
  const { forgetRecoveryPoints } = await import("@pwdr/host");
  const { prune } = await import("@pwdr/repo");
  return withRepository(run, async (repo) => {
    run.ctx.onProgress({ phase: "forget", bytesDone: 0 });
    const forgotten = await forgetRecoveryPoints(repo, hostNameOf(run.config), policy, {
      dryRun: spec.dryRun,
    });
    run.ctx.signal.throwIfAborted();
    run.ctx.onProgress({ phase: "prune", bytesDone: 0 });
    const pruned = spec.dryRun ? undefined : await prune(repo);
    return {
      state: "succeeded",
      details: {
        dryRun: spec.dryRun,
        pointsKept: forgotten.decisions.filter((d) => d.keep).length,
        pointsForgotten: forgotten.decisions.filter((d) => !d.keep).map((d) => d.id),
        ...(pruned ? { bytesDeleted: pruned.bytesDeleted, packsDeleted: pruned.packsDeleted } : {}),
      },
    };
  });
}

/** Stop, start or restart through the host's configured hooks; `services` narrows units or compose services. */
async function serviceAction(spec: ServiceActionSpec, run: Run): Promise<JobOutcome> {
  const control = run.config.services;
  if (!control)
    return failed("invalid_argument", "this host's config has no `services`: nothing to stop or start");
  if (spec.action === ServiceAction.UNSPECIFIED)
    return failed("invalid_argument", "the service action is not set");
  const { serviceHooks } = await import("@pwdr/host");
  const hooks = serviceHooks(narrow(control, spec.services), "the application services");
  const verbs = {
    [ServiceAction.STOP]: ["stop"],
    [ServiceAction.START]: ["start"],
    [ServiceAction.RESTART]: ["stop", "start"],
  };
  const steps = verbs[spec.action] as ("stop" | "start")[];
  for (const verb of steps) {
    run.ctx.signal.throwIfAborted();
    run.ctx.onProgress({ phase: verb, bytesDone: 0, item: hooks.describe()[verb] });
    try {
      await hooks[verb]();
    } catch (err) {
      return failed("service_action_failed", (err as Error).message, true);
    }
  }
  return { state: "succeeded", details: { action: steps, commands: hooks.describe() } };
}

function narrow(control: ServiceControl, names: readonly string[]): ServiceControl {
  if (names.length === 0) return control;
  if (control.type === "commands") {
    throw new RepoError(
      "invalid_argument",
      "the host's services are plain commands: they cannot be chosen by name",
    );
  }
  const known = control.type === "systemd" ? control.units : control.services;
  const unknown = names.filter((n) => known.length > 0 && !known.includes(n));
  if (unknown.length > 0) {
    throw new RepoError(
      "invalid_argument",
      `not a configured service: ${unknown.join(", ")} (configured: ${known.join(", ")})`,
    );
  }
  return control.type === "systemd"
    ? { ...control, units: [...names] }
    : { ...control, services: [...names] };
}
