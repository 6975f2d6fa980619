import type { Repository } from "@pwdr/repo";
import {
  restoreConfig,
  restoreFileTree,
  restorePostgres,
  restoreRedisFiles,
  restoreRedisLogical,
  type SourceProgress,
  type TreeRestoreResult,
} from "@pwdr/sources";
import { postgresConnection, redisConnection } from "../definition/connections.js";
import type { SourceDefinition } from "../definition/host-definition.js";
import { waitHealthy } from "../health/wait-healthy.js";
import { serviceHooks } from "../services/service-hooks.js";
import type { RestoreMapping } from "./mapping.js";
import type { PlanEntry } from "./plan-host-restore.js";

export interface StepContext {
  repo: Repository;
  mapping: RestoreMapping;
  targetPrefix: string;
  onProgress: (p: SourceProgress) => void;
  /** Walk a tree source's selection and report what it would restore, writing nothing. */
  dryRun?: boolean;
}

/** Executes one planned step; returns what it measured or verified. */
export async function runStep(step: PlanEntry, ctx: StepContext): Promise<Record<string, unknown>> {
  switch (step.kind) {
    case "stop-services":
      await serviceHooks(
        step.services as NonNullable<PlanEntry["services"]>,
        "the application services",
      ).stop();
      return {};
    case "start-services":
      await serviceHooks(
        step.services as NonNullable<PlanEntry["services"]>,
        "the application services",
      ).start();
      return {};
    case "verify-health":
      return { ...(await waitHealthy(step.health as NonNullable<PlanEntry["health"]>)) };
    default:
      return restoreSource(step, ctx);
  }
}

async function restoreSource(step: PlanEntry, ctx: StepContext): Promise<Record<string, unknown>> {
  const def = step.def as SourceDefinition;
  const sourceCtx = { repo: ctx.repo, snapshotId: step.snapshotId as string, onProgress: ctx.onProgress };
  const trees = {
    targetPrefix: ctx.targetPrefix,
    pathMap: ctx.mapping.paths ?? {},
    ...(step.include ? { paths: step.include } : {}),
    ...(ctx.dryRun ? { dryRun: true } : {}),
  };
  switch (def.kind) {
    case "postgres": {
      const databases = ctx.mapping.databases ?? {};
      const result = await restorePostgres(sourceCtx, {
        connection: await postgresConnection(def),
        targetDatabase: (name) => databases[name] ?? name,
        jobs: def.jobs,
        clean: true,
      });
      return { ...result };
    }
    case "redis": {
      const connection = await redisConnection(def);
      if (def.mode === "logical") return { ...(await restoreRedisLogical(sourceCtx, { connection })) };
      const hooks = serviceHooks(def.service as NonNullable<typeof def.service>, `Redis "${def.name}"`);
      const result = await restoreRedisFiles(sourceCtx, {
        connection,
        dataDir: def.dataDir as string,
        stop: hooks.stop,
        start: hooks.start,
      });
      return { ...result };
    }
    case "config":
      return treeSummary(await restoreConfig(sourceCtx, trees));
    case "files":
      return treeSummary(await restoreFileTree(sourceCtx, trees));
  }
}

function treeSummary(result: TreeRestoreResult): Record<string, unknown> {
  const { files, dirs, bytes, placements } = result;
  return { files, dirs, bytes, placements, issues: result.issues.length };
}
