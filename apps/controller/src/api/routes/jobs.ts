import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog, Job, Prisma } from "@pwdr/catalog";
import { cancelJob } from "../../jobs/cancel-job.js";
import { createOperatorJob, type JobRequest, latestCompleteRecoveryPoint } from "../../jobs/create-job.js";
import {
  IdempotencyConflictError,
  InvalidJobSpecError,
  JobFinishedError,
  JobNotFoundError,
  JobTargetError,
} from "../../jobs/job-errors.js";
import type { LiveProgress } from "../../jobs/live-progress.js";
import type { SessionRegistry } from "../../session-registry.js";
import { ApiError, notFound } from "../api-errors.js";
import { IdParams } from "../schemas/common.js";
import { errorResponses } from "../schemas/error.js";
import {
  CancelView,
  IdempotencyHeaders,
  JobDetail,
  JobInput,
  JobListQuery,
  JobPage,
  JobView,
  RestoreInput,
} from "../schemas/job.js";
import { liveProgressOf, toJobView, toRunView } from "./job-views.js";

export interface JobRouteOptions {
  db: Catalog;
  sessions: SessionRegistry;
  progress: LiveProgress;
  /** Called with every job an operator creates, e.g. so the dispatcher sends it without waiting for its tick. */
  onJobCreated: (job: Job) => void;
}

/** `specPath`: where the spec sits in the request, for the paths of its problems. */
function toApiError(err: unknown, specPath = "body/spec"): unknown {
  if (err instanceof InvalidJobSpecError) {
    const details = err.problems.map((p) => ({ path: `${specPath}${p.path}`, message: p.message }));
    return new ApiError("VALIDATION_FAILED", err.message, details);
  }
  if (err instanceof JobTargetError) {
    const missing = err.reason === "unknown_host" || err.reason === "unknown_recovery_point";
    return new ApiError(missing ? "NOT_FOUND" : "CONFLICT", err.message);
  }
  if (err instanceof IdempotencyConflictError || err instanceof JobFinishedError) {
    return new ApiError("CONFLICT", err.message);
  }
  if (err instanceof JobNotFoundError) return notFound("job", err.jobId);
  return err;
}

/** Jobs filter on a host by id or by name: operators think in names. */
function hostFilter(host: string | undefined): Prisma.JobWhereInput {
  return host ? { OR: [{ hostId: host }, { host: { name: host } }] } : {};
}

/** Jobs: viewers read them, operators queue and cancel them; every change is audited. */
export const jobRoutes: FastifyPluginAsyncTypebox<JobRouteOptions> = async (app, options) => {
  const { db, sessions, progress, onJobCreated } = options;

  async function create(request: JobRequest, specPath?: string) {
    try {
      const outcome = await createOperatorJob(db, request);
      if (outcome.created) onJobCreated(outcome.job);
      return outcome;
    } catch (err) {
      throw toApiError(err, specPath);
    }
  }

  app.get(
    "/jobs",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List jobs, newest first",
        tags: ["jobs"],
        querystring: JobListQuery,
        response: { 200: JobPage, ...errorResponses },
      },
    },
    async (request) => {
      const { host, state, kind, limit, cursor } = request.query;
      const jobs = await db.job.findMany({
        where: {
          ...hostFilter(host),
          ...(state ? { state } : {}),
          ...(kind ? { kind } : {}),
          ...(cursor ? { id: { lt: cursor } } : {}),
        },
        // Ids are UUIDv7: their order is the order of creation.
        orderBy: { id: "desc" },
        take: limit + 1,
      });
      const page = jobs.slice(0, limit);
      return {
        jobs: page.map(toJobView),
        nextCursor: jobs.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    "/jobs/:id",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show a job with its runs and live progress",
        tags: ["jobs"],
        params: IdParams,
        response: { 200: JobDetail, ...errorResponses },
      },
    },
    async (request) => {
      const job = await db.job.findUnique({
        where: { id: request.params.id },
        include: {
          runs: { orderBy: { startedAt: "asc" }, include: { recoveryPoint: { select: { id: true } } } },
        },
      });
      if (!job) throw notFound("job", request.params.id);
      return {
        ...toJobView(job),
        runs: job.runs.map(toRunView),
        liveProgress: liveProgressOf(job, progress.of(job.hostId, job.id)),
      };
    },
  );

  app.post(
    "/jobs",
    {
      config: { access: "operator", audit: { action: "job.create", targetKind: "job" } },
      schema: {
        summary: "Queue a job for a host",
        description:
          "The spec is checked against the job's kind; the dispatcher sends the job when the host is online. " +
          "An Idempotency-Key header makes a retried request return the job the first one created (200).",
        tags: ["jobs"],
        headers: IdempotencyHeaders,
        body: JobInput,
        response: { 200: JobView, 201: JobView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { job, created } = await create({
        ...request.body,
        spec: request.body.spec ?? {},
        idempotencyKey: request.headers["idempotency-key"],
        createdBy: `token:${request.principal?.name ?? "unknown"}`,
      });
      request.auditTargetId = job.id;
      return reply.status(created ? 201 : 200).send(toJobView(job));
    },
  );

  app.post(
    "/jobs/:id/cancel",
    {
      config: { access: "operator", audit: { action: "job.cancel", targetKind: "job" } },
      schema: {
        summary: "Cancel a job",
        description:
          "A pending job is cancelled at once. A dispatched or running job is asked to stop over its host's " +
          "session; its final state comes with the agent's result (it may still finish first).",
        tags: ["jobs"],
        params: IdParams,
        response: { 200: CancelView, ...errorResponses },
      },
    },
    async (request) => {
      try {
        const actor = `token:${request.principal?.name ?? "unknown"}`;
        const outcome = await cancelJob({ db, sessions }, request.params.id, actor);
        return { ...outcome, job: toJobView(outcome.job) };
      } catch (err) {
        throw toApiError(err);
      }
    },
  );

  app.post(
    "/hosts/:id/restore",
    {
      config: { access: "operator", audit: { action: "restore.start", targetKind: "host" } },
      schema: {
        summary: "Restore a recovery point onto its host",
        description:
          "Queues a restore job. Without recoveryPointId the host's newest complete recovery point is used. " +
          "dryRun only reports what would be touched. include restores only those paths (files or " +
          "directories, as the snapshot browser lists them) of the one config or files source in sources; " +
          "the agent fails the job, naming the path, when the snapshot lacks one.",
        tags: ["jobs"],
        params: IdParams,
        headers: IdempotencyHeaders,
        body: RestoreInput,
        response: { 200: JobView, 201: JobView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const hostId = request.params.id;
      if (!(await db.host.findUnique({ where: { id: hostId } }))) throw notFound("host", hostId);
      const recoveryPointId =
        request.body.recoveryPointId ??
        (await latestPointId(db, hostId).catch((err) => Promise.reject(toApiError(err))));
      const { job, created } = await create(
        {
          hostId,
          kind: "restore",
          spec: { ...request.body, recoveryPointId },
          idempotencyKey: request.headers["idempotency-key"],
          createdBy: `token:${request.principal?.name ?? "unknown"}`,
        },
        "body",
      );
      return reply.status(created ? 201 : 200).send(toJobView(job));
    },
  );
};

async function latestPointId(db: Catalog, hostId: string): Promise<string> {
  return (await latestCompleteRecoveryPoint(db, hostId)).id;
}
