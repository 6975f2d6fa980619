import type { Catalog, Job } from "@pwdr/catalog";
import type { SessionRegistry } from "../session-registry.js";
import { JobFinishedError, JobNotFoundError } from "./job-errors.js";
import { isFinal } from "./run-states.js";

export interface CancelOutcome {
  job: Job;
  /** A pending job is cancelled at once; a dispatched or running one when its agent reports. */
  cancelledNow: boolean;
  /** Whether a CancelJob went to the host's open session. */
  sentToAgent: boolean;
}

/**
 * Cancels a job. A job still pending never reaches its agent; one the agent
 * has is asked to stop over its session, and its final state comes with the
 * agent's result (it may still finish first). The request is noted in the
 * job's reason until the result replaces it.
 */
export async function cancelJob(
  deps: { db: Catalog; sessions: SessionRegistry },
  jobId: string,
  actor: string,
  now = new Date(),
): Promise<CancelOutcome> {
  const { db, sessions } = deps;
  // Guarded by state: the dispatcher may take the job between read and write.
  const { count } = await db.job.updateMany({
    where: { id: jobId, state: "pending" },
    data: { state: "cancelled", reason: `cancelled by ${actor}`, finishedAt: now },
  });
  const job = await db.job.findUnique({ where: { id: jobId } });
  if (!job) throw new JobNotFoundError(jobId);
  if (count === 1) return { job, cancelledNow: true, sentToAgent: false };
  if (isFinal(job.state))
    throw new JobFinishedError(`job ${jobId} is ${job.state} already; nothing to cancel`);
  const reason = `cancellation requested by ${actor}`;
  const sentToAgent = sessions.send(job.hostId, { case: "cancel", value: { jobId, reason } });
  const updated = await db.job.update({ where: { id: jobId }, data: { reason } });
  return { job: updated, cancelledNow: false, sentToAgent };
}
