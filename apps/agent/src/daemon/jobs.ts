import { mkdir } from "node:fs/promises";
import { createRecoveryPoint, forgetRecoveryPoints, type RecoveryPoint, runDrill } from "@pwdr/host";
import { checkRepository, prune, type Repository, type RetentionPolicy } from "@pwdr/repo";
import { parseSubset } from "../commands/check.js";
import type { AgentConfig, JobName } from "../config/agent-config.js";
import { hostDefinitionOf } from "../config/load-agent-config.js";
import { summarizeCheck } from "./check-summary.js";
import { hostNameOf } from "./open-config-repository.js";

/** What a job reports for the journal and the metrics. */
export interface JobOutcome {
  status: "ok" | "partial" | "failed";
  bytes?: number;
  addedBytes?: number;
  recoveryPoint?: string;
  error?: string;
  details?: Record<string, unknown>;
}

export interface JobEnvironment {
  config: AgentConfig;
  repo: Repository;
  log: (line: string) => void;
  onProgress?: (text: string) => void;
}

export type JobFunction = (env: JobEnvironment) => Promise<JobOutcome>;

export const JOBS: Record<JobName, JobFunction> = {
  backup: backupJob,
  check: checkJob,
  retention: retentionJob,
  drill: drillJob,
};

async function backupJob(env: JobEnvironment): Promise<JobOutcome> {
  const point = await createRecoveryPoint(env.repo, hostDefinitionOf(env.config), {
    log: env.log,
    onProgress: (p) => env.onProgress?.(`${p.source}: ${p.phase} ${p.item ?? ""}`),
  });
  const failed = point.sources.filter((s) => s.status === "failed");
  return {
    status: point.status === "complete" ? "ok" : point.status,
    bytes: sum(point, "bytes"),
    addedBytes: sum(point, "addedBytes"),
    recoveryPoint: point.id,
    ...(failed.length > 0 ? { error: failed.map((s) => `${s.name}: ${s.error?.message}`).join("; ") } : {}),
    details: { sources: point.sources.map(({ definition: _definition, ...s }) => s) },
  };
}

function sum(point: RecoveryPoint, key: "bytes" | "addedBytes"): number {
  return point.sources.reduce((n, s) => n + (s[key] ?? 0), 0);
}

async function checkJob(env: JobEnvironment): Promise<JobOutcome> {
  const report = await checkRepository(env.repo, { readData: parseSubset(env.config.verify.readDataSubset) });
  const { details, failure } = summarizeCheck(report);
  return failure ? { status: "failed", error: failure, details } : { status: "ok", details };
}

async function retentionJob(env: JobEnvironment): Promise<JobOutcome> {
  const retention = env.config.retention;
  if (!retention) return { status: "failed", error: "no retention policy in the config" };
  const { prune: alsoPrune, ...policy } = retention;
  const kept = Object.entries(policy).filter(([, n]) => n !== undefined);
  const forgotten = await forgetRecoveryPoints(
    env.repo,
    hostNameOf(env.config),
    Object.fromEntries(kept) as RetentionPolicy,
  );
  const pruned = alsoPrune ? await prune(env.repo) : undefined;
  return {
    status: "ok",
    details: {
      pointsKept: forgotten.decisions.filter((d) => d.keep).length,
      pointsForgotten: forgotten.decisions.filter((d) => !d.keep).map((d) => d.id),
      ...(pruned ? { bytesDeleted: pruned.bytesDeleted, packsDeleted: pruned.packsDeleted } : {}),
    },
  };
}

/** The latest recovery point restored into a sandbox and checked; the restore time is what an RTO estimate uses. */
async function drillJob(env: JobEnvironment): Promise<JobOutcome> {
  const { config } = env;
  await mkdir(config.drills.workDir, { recursive: true, mode: 0o711 });
  const result = await runDrill(env.repo, { fromHost: hostNameOf(config), workDir: config.drills.workDir });
  const assertions = result.sources.flatMap((s) => s.assertions);
  return {
    status: result.status === "passed" ? "ok" : "failed",
    ...(result.recoveryPoint ? { recoveryPoint: result.recoveryPoint } : {}),
    ...(result.failure ? { error: result.failure } : {}),
    details: {
      restoreMs: result.restoreMs,
      drillMs: result.durationMs,
      checks: assertions.length,
      failedChecks: assertions.filter((a) => !a.passed),
      sources: result.sources.map((s) => ({ name: s.name, kind: s.kind, checks: s.assertions.length })),
    },
  };
}
