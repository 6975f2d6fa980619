// Jobs the controller runs itself instead of sending them to an agent.
import type { Job } from "@pwdr/catalog";
import { type ControllerPruneDeps, runControllerPrune } from "./controller-prune.js";
import type { FleetHost } from "./fleet-view.js";
import { FLEET_STORAGE_KEY } from "./fleet-view.js";

/** Prune of a host repository the controller serves: only the controller may delete there. */
export function runsOnController(job: Pick<Job, "kind">, host: Pick<FleetHost, "repositoryKey">): boolean {
  return job.kind === "prune" && host.repositoryKey === FLEET_STORAGE_KEY;
}

/**
 * Runs a claimed job (state running, `attempt` already counted) and records
 * it like an agent's run: one JobRun, then the job's final state.
 */
export async function runControllerJob(deps: ControllerPruneDeps, job: Job, attempt: number): Promise<void> {
  const { db, log } = deps;
  const run = await db.jobRun.create({
    data: {
      jobId: job.id,
      hostId: job.hostId,
      startedAt: new Date(),
      phase: "prune",
      idempotencyKey: `controller/${job.id}/${attempt}`,
    },
  });
  let state: "succeeded" | "failed" = "succeeded";
  let details: object = {};
  let error: string | undefined;
  try {
    details = await runControllerPrune(deps, job);
  } catch (err) {
    state = "failed";
    error = (err as Error).message;
    log.warn("controller-side prune failed", { jobId: job.id, hostId: job.hostId, error });
  }
  const finishedAt = new Date();
  await db.$transaction([
    db.jobRun.update({
      where: { id: run.id },
      data: {
        state,
        finishedAt,
        details,
        ...(error ? { errorCode: "prune_failed", errorMessage: error } : {}),
      },
    }),
    db.job.updateMany({
      where: { id: job.id, state: "running" },
      data: { state, finishedAt, ...(error ? { reason: `prune on the controller failed: ${error}` } : {}) },
    }),
  ]);
}
