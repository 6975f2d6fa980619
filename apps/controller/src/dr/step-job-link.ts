// The job behind an agent step's current attempt: found by its idempotency
// key, so a controller that stopped between writing the step and the job (or
// the job and the step's jobId) neither loses nor doubles it.

import type { DrStepAction } from "@pwdr/catalog";
import { type Catalog, type DrStep, isUniqueViolation, type Job, type Prisma } from "@pwdr/catalog";
import { paramsOf } from "./run-steps.js";
import { stepJob } from "./step-jobs.js";

export const DR_ACTOR = "system:dr";

export function stepJobKey(step: Pick<DrStep, "id" | "attempt">): string {
  return `dr/${step.id}/${step.attempt}`;
}

/** The job of the step's current attempt, created if it does not exist yet; `created` says which. */
export async function ensureStepJob(
  db: Catalog,
  step: DrStep,
  now: Date,
): Promise<{ job: Job; created: boolean }> {
  if (!step.hostId) throw new Error(`step ${step.name} runs on the controller; it has no job`);
  const idempotencyKey = stepJobKey(step);
  const existing = await db.job.findUnique({ where: { idempotencyKey } });
  if (existing) return { job: existing, created: false };
  const { kind, spec } = stepJob(step.action as DrStepAction, paramsOf(step));
  try {
    const job = await db.job.create({
      data: {
        kind,
        hostId: step.hostId,
        scheduledFor: now,
        createdBy: DR_ACTOR,
        idempotencyKey,
        params: { spec, timeoutMs: step.timeoutMs } as Prisma.InputJsonObject,
      },
    });
    return { job, created: true };
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return { job: await db.job.findUniqueOrThrow({ where: { idempotencyKey } }), created: false };
  }
}

/** What the step reports once its job is over: the job's state and its last run's details. */
export async function jobOutput(db: Catalog, job: Job): Promise<Prisma.InputJsonObject> {
  const run = await db.jobRun.findFirst({ where: { jobId: job.id }, orderBy: { startedAt: "desc" } });
  return {
    jobId: job.id,
    jobState: job.state,
    ...(run
      ? {
          runId: run.idempotencyKey,
          details: (run.details ?? null) as Prisma.InputJsonValue | null,
          bytesRead: Number(run.bytesRead),
        }
      : {}),
  };
}
