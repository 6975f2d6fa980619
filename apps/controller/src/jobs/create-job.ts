import { randomUUID } from "node:crypto";
import type { Catalog, Job, JobKind, Prisma, RecoveryPoint } from "@pwdr/catalog";
import { IdempotencyConflictError, InvalidJobSpecError, JobTargetError } from "./job-errors.js";
import { type JobParams, type RestoreSpec, type RetrySettings, specProblems } from "./job-spec.js";
import { checkRestoreInclude } from "./restore-include.js";

export interface JobRequest {
  hostId: string;
  kind: JobKind;
  spec: unknown;
  retry?: RetrySettings | undefined;
  timeoutMs?: number | undefined;
  /** The caller's Idempotency-Key; a random one when absent. */
  idempotencyKey?: string | undefined;
  /** Actor, as in AuditEvent.actor. */
  createdBy: string;
}

export interface CreatedJob {
  job: Job;
  /** False when the Idempotency-Key named a job made earlier: that job is returned. */
  created: boolean;
}

/**
 * Queues an operator's job for the dispatcher: checks the host can take it and
 * that the spec fits the kind (a restore or drill must name a recovery point
 * of this host that holds data; a restore's include goes with one config or
 * files source of it). A repeated Idempotency-Key returns the first
 * job instead of queueing another.
 */
export async function createOperatorJob(
  db: Catalog,
  request: JobRequest,
  now = new Date(),
): Promise<CreatedJob> {
  const idempotencyKey = `op/${request.idempotencyKey ?? randomUUID()}`;
  const earlier = await db.job.findUnique({ where: { idempotencyKey } });
  if (earlier) return { job: sameRequest(earlier, request), created: false };
  await checkHost(db, request.hostId);
  const problems = specProblems(request.kind, request.spec);
  if (problems.length > 0) throw new InvalidJobSpecError(problems);
  await checkRecoveryPoint(db, request);
  if (request.kind === "restore") await checkRestoreInclude(db, request.spec as RestoreSpec);
  const params: JobParams = {
    spec: request.spec as JobParams["spec"],
    ...(request.retry ? { retry: request.retry } : {}),
    ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
  };
  const job = await db.job.create({
    data: {
      kind: request.kind,
      hostId: request.hostId,
      scheduledFor: now,
      createdBy: request.createdBy,
      idempotencyKey,
      params: params as unknown as Prisma.InputJsonObject,
    },
  });
  return { job, created: true };
}

function sameRequest(job: Job, request: JobRequest): Job {
  if (job.hostId === request.hostId && job.kind === request.kind) return job;
  throw new IdempotencyConflictError(
    `Idempotency-Key "${request.idempotencyKey}" was used for job ${job.id} (${job.kind} on host ${job.hostId}); use a new key for a different request`,
  );
}

async function checkHost(db: Catalog, hostId: string): Promise<void> {
  const host = await db.host.findUnique({ where: { id: hostId } });
  if (!host) throw new JobTargetError("unknown_host", `no host with id "${hostId}"`);
  if (host.state === "decommissioned") {
    throw new JobTargetError("decommissioned", `host ${host.name} is decommissioned; it takes no jobs`);
  }
}

async function checkRecoveryPoint(db: Catalog, request: JobRequest): Promise<void> {
  if (request.kind !== "restore" && request.kind !== "drill") return;
  const pointId = (request.spec as { recoveryPointId?: string }).recoveryPointId;
  if (pointId === undefined) return;
  const point = await db.recoveryPoint.findUnique({ where: { id: pointId } });
  usableRecoveryPoint(point, request.hostId, pointId);
}

/**
 * Agents read only their own host's repository, so a recovery point of
 * another host cannot be restored there (yet); a failed point holds no data.
 */
export function usableRecoveryPoint(
  point: RecoveryPoint | null,
  hostId: string,
  pointId: string,
): RecoveryPoint {
  if (!point) throw new JobTargetError("unknown_recovery_point", `no recovery point with id "${pointId}"`);
  if (point.hostId !== hostId) {
    throw new JobTargetError(
      "unusable_recovery_point",
      `recovery point ${pointId} belongs to another host (${point.hostId}); an agent can restore only its own host's recovery points`,
    );
  }
  if (point.status === "failed") {
    throw new JobTargetError(
      "unusable_recovery_point",
      `recovery point ${pointId} failed and holds no data to restore`,
    );
  }
  return point;
}

/** The host's newest complete recovery point. */
export async function latestCompleteRecoveryPoint(db: Catalog, hostId: string): Promise<RecoveryPoint> {
  const point = await db.recoveryPoint.findFirst({
    where: { hostId, status: "complete" },
    orderBy: { time: "desc" },
  });
  if (!point) {
    throw new JobTargetError(
      "unknown_recovery_point",
      `host ${hostId} has no complete recovery point to restore`,
    );
  }
  return point;
}
