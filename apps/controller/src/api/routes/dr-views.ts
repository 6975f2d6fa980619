import type { DrRun, DrRunKind, DrRunState, DrStep, DrStepAction, DrStepState } from "@pwdr/catalog";
import type { DrPlan, OnFailure } from "../../dr/plan-types.js";
import { dependsOnOf, paramsOf } from "../../dr/run-steps.js";
import type { LiveProgress } from "../../jobs/live-progress.js";
import { isoOrNull } from "../schemas/common.js";

export function toDrRunView(run: DrRun) {
  return {
    id: run.id,
    kind: run.kind as DrRunKind,
    state: run.state as DrRunState,
    failedHostId: run.failedHostId,
    replacementHostId: run.replacementHostId,
    recoveryPointId: run.recoveryPointId,
    reason: run.reason,
    createdBy: run.createdBy,
    startedAt: isoOrNull(run.startedAt),
    finishedAt: isoOrNull(run.finishedAt),
    rtoMs: run.rtoMs,
    rpoMs: run.rpoMs,
    createdAt: run.createdAt.toISOString(),
  };
}

export function toDrStepView(step: DrStep, progress: LiveProgress) {
  const live =
    step.state === "running" && step.hostId && step.jobId ? progress.of(step.hostId, step.jobId) : undefined;
  return {
    id: step.id,
    position: step.position,
    name: step.name,
    hostId: step.hostId,
    action: step.action as DrStepAction,
    params: paramsOf(step),
    dependsOn: dependsOnOf(step),
    state: step.state as DrStepState,
    attempt: step.attempt,
    maxAttempts: step.maxAttempts,
    timeoutMs: step.timeoutMs,
    onFailure: step.onFailure as OnFailure,
    jobId: step.jobId,
    output: (step.output ?? null) as Record<string, unknown> | null,
    error: step.error,
    startedAt: isoOrNull(step.startedAt),
    finishedAt: isoOrNull(step.finishedAt),
    durationMs:
      step.startedAt && step.finishedAt ? step.finishedAt.getTime() - step.startedAt.getTime() : null,
    liveProgress: live ?? null,
  };
}

export function toDrRunDetail(run: DrRun & { steps: DrStep[] }, progress: LiveProgress) {
  return {
    ...toDrRunView(run),
    plan: run.plan as unknown as DrPlan,
    steps: run.steps.map((s) => toDrStepView(s, progress)),
  };
}
