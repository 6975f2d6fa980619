import { timestampDate } from "@bufbuild/protobuf/wkt";
import { type Host, JOB_KINDS, type Job, type JobKind, type Prisma } from "@pwdr/catalog";
import type { JobResult } from "@pwdr/protocol";

type Tx = Prisma.TransactionClient;

/** Why a result cannot be recorded; the agent keeps it in its outbox. */
export class RefusedResultError extends Error {}

/** The schedule names a slot key may start with ("backup@2026-…"). */
const SCHEDULES = new Set(["backup", "check", "drill", "prune"]);

/** Job.idempotencyKey of a run the agent started by itself. */
export function localJobKey(hostId: string, result: Pick<JobResult, "slotKey" | "runId">): string {
  return result.slotKey ? `${hostId}/${result.slotKey}` : `local/${result.runId}`;
}

/**
 * The catalog job a result belongs to. A dispatched job is found by its id;
 * a run the agent started itself (or one whose job the catalog does not hold,
 * e.g. after a catalog rebuild) is found, or created, under the key of its
 * slot, so a slot the scheduler also queued is recorded once.
 */
export async function jobForResult(tx: Tx, host: Host, result: JobResult): Promise<Job> {
  if (!result.locallyScheduled && result.jobId) {
    const job = await tx.job.findUnique({ where: { id: result.jobId } });
    if (job && job.hostId !== host.id) {
      throw new RefusedResultError(`job ${result.jobId} belongs to another host`);
    }
    if (job) return job;
  }
  const key = localJobKey(host.id, result);
  const found = await tx.job.findUnique({ where: { idempotencyKey: key } });
  if (found && found.hostId !== host.id) throw new RefusedResultError(`job ${key} belongs to another host`);
  return found ?? createAgentJob(tx, host, result, key);
}

async function createAgentJob(tx: Tx, host: Host, result: JobResult, key: string): Promise<Job> {
  const kind = result.kind as JobKind;
  if (!JOB_KINDS.includes(kind)) {
    throw new RefusedResultError(
      `result of run ${result.runId} names no known job (job_id "${result.jobId}") and no valid kind ("${result.kind}")`,
    );
  }
  const schedule = result.slotKey.split("@")[0] ?? "";
  const startedAt = result.startedAt ? timestampDate(result.startedAt) : new Date();
  return tx.job.create({
    data: {
      kind,
      hostId: host.id,
      scheduledFor: startedAt,
      schedule: SCHEDULES.has(schedule) ? schedule : null,
      state: "running",
      createdBy: `agent:${host.name}`,
      attempt: 1,
      idempotencyKey: key,
      params: { spec: {} },
    },
  });
}
