import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Catalog } from "@pwdr/catalog";
import { DrNotFoundError, DrPlanError, DrRefusedError, DrRunFinishedError } from "../../dr/dr-errors.js";
import { planFleetDrill } from "../../dr/drill-plan.js";
import { hostDrills } from "../../dr/drill-trend.js";
import { resolveHost } from "../../dr/host-ref.js";
import { planHostRestore } from "../../dr/host-restore-plan.js";
import { planMultiHost } from "../../dr/multi-host-plan.js";
import type { DrOrchestrator } from "../../dr/orchestrator.js";
import type { DrPlan } from "../../dr/plan-types.js";
import { startRun } from "../../dr/start-run.js";
import type { LiveProgress } from "../../jobs/live-progress.js";
import type { SessionRegistry } from "../../session-registry.js";
import { ApiError } from "../api-errors.js";
import { IdParams } from "../schemas/common.js";
import {
  DrDrillInput,
  DrillHistoryQuery,
  DrillHistoryView,
  DrPlanRunInput,
  DrPlanView,
  DrRestoreInput,
  DrRunDetail,
  DrRunListQuery,
  DrRunPage,
} from "../schemas/dr.js";
import { errorResponses } from "../schemas/error.js";
import { toDrRunDetail, toDrRunView } from "./dr-views.js";

export interface DrRouteOptions {
  db: Catalog;
  sessions: SessionRegistry;
  progress: LiveProgress;
  dr: DrOrchestrator;
}

function toApiError(err: unknown): unknown {
  if (err instanceof DrNotFoundError) return new ApiError("NOT_FOUND", err.message);
  if (err instanceof DrPlanError) {
    return new ApiError(err.reason === "invalid" ? "VALIDATION_FAILED" : "CONFLICT", err.message);
  }
  if (err instanceof DrRefusedError) {
    return new ApiError(
      "CONFLICT",
      err.message,
      err.problems.map((message) => ({ path: "assessment", message })),
    );
  }
  if (err instanceof DrRunFinishedError) return new ApiError("CONFLICT", err.message);
  return err;
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toApiError(err);
  }
}

const actorOf = (request: { principal?: { name: string } | null }) =>
  `token:${request.principal?.name ?? "unknown"}`;

/** DR: viewers read runs, operators plan, start and cancel them; every start and cancel is audited. */
export const drRoutes: FastifyPluginAsyncTypebox<DrRouteOptions> = async (app, options) => {
  const { db, sessions, progress, dr } = options;

  async function detail(id: string) {
    const run = await db.drRun.findUnique({
      where: { id },
      include: { steps: { orderBy: { position: "asc" } } },
    });
    if (!run) throw new ApiError("NOT_FOUND", `no DR run with id "${id}"`);
    return toDrRunDetail(run, progress);
  }

  /** A dry run answers the plan (200); a confirmed one starts the run (201) or is refused (409). */
  async function planOrStart(
    plan: DrPlan,
    dryRun: boolean,
    actor: string,
    reply: { status(code: number): { send(body: unknown): unknown } },
    setTarget: (id: string) => void,
  ) {
    if (dryRun) return reply.status(200).send(plan);
    const run = await guarded(() => startRun(db, plan, actor));
    setTarget(run.id);
    dr.wake();
    return reply.status(201).send(await detail(run.id));
  }

  app.post(
    "/dr/restores",
    {
      config: { access: "operator", audit: { action: "dr.restore", targetKind: "dr-run" } },
      schema: {
        summary: "Plan (dry run) or start a central restore of a failed host onto a replacement",
        description:
          "Without recoveryPointId the failed host's newest complete recovery point is used (the newest at or " +
          "before `at` when given). dryRun (the default) answers the plan and its assessment and touches " +
          "nothing; dryRun: false starts the run (201), or answers 409 with the assessment's problems.",
        tags: ["dr"],
        body: DrRestoreInput,
        response: { 200: DrPlanView, 201: DrRunDetail, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (body.recoveryPointId && body.at) {
        throw new ApiError("VALIDATION_FAILED", "give recoveryPointId or at, not both", [
          { path: "body/at", message: "conflicts with recoveryPointId" },
        ]);
      }
      const plan = await guarded(() =>
        planHostRestore(
          { db, sessions },
          {
            failedHost: body.failedHostId,
            replacementHost: body.replacementHostId,
            recoveryPointId: body.recoveryPointId,
            at: body.at ? new Date(body.at) : undefined,
          },
        ),
      );
      return planOrStart(plan, body.dryRun, actorOf(request), reply, (id) => {
        request.auditTargetId = id;
      });
    },
  );

  app.post(
    "/dr/plans/run",
    {
      config: { access: "operator", audit: { action: "dr.plan", targetKind: "dr-run" } },
      schema: {
        summary: "Plan (dry run) or start an ordered plan of steps across hosts",
        description:
          "Each step is an action on one host's agent; a step waits for the steps named in dependsOn (the " +
          "previous step when omitted). dryRun (the default) answers the checked plan.",
        tags: ["dr"],
        body: DrPlanRunInput,
        response: { 200: DrPlanView, 201: DrRunDetail, ...errorResponses },
      },
    },
    async (request, reply) => {
      const plan = await guarded(() => planMultiHost({ db, sessions }, request.body.steps));
      return planOrStart(plan, request.body.dryRun, actorOf(request), reply, (id) => {
        request.auditTargetId = id;
      });
    },
  );

  app.post(
    "/dr/drills",
    {
      config: { access: "operator", audit: { action: "dr.drill", targetKind: "dr-run" } },
      schema: {
        summary: "Plan (dry run) or start a fleet drill: a host's recovery point restored onto another agent",
        description:
          "mode sandbox (the default) restores into the target agent's throw-away servers and checks row counts, " +
          "key counts and file checksums against the backup; standby runs the runbook's restore onto the " +
          "target's own services and waits for its health check. Nothing is taken over. Without " +
          "recoveryPointId the newest complete point is drilled.",
        tags: ["dr"],
        body: DrDrillInput,
        response: { 200: DrPlanView, 201: DrRunDetail, ...errorResponses },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const plan = await guarded(() =>
        planFleetDrill(
          { db, sessions },
          {
            host: body.hostId,
            target: body.targetHostId,
            mode: body.mode as "sandbox" | "standby" | undefined,
            recoveryPointId: body.recoveryPointId,
          },
        ),
      );
      return planOrStart(plan, body.dryRun, actorOf(request), reply, (id) => {
        request.auditTargetId = id;
      });
    },
  );

  app.get(
    "/dr/drills",
    {
      config: { access: "viewer" },
      schema: {
        summary: "A host's fleet drills, oldest first, and the trend of their RTO",
        tags: ["dr"],
        querystring: DrillHistoryQuery,
        response: { 200: DrillHistoryView, ...errorResponses },
      },
    },
    async (request) => {
      const host = await guarded(() => resolveHost(db, request.query.host));
      const { drills, trend } = await hostDrills(db, host.id, request.query.limit);
      return {
        host: { id: host.id, name: host.name },
        drills: drills.map((d) => ({
          ...d,
          startedAt: d.startedAt?.toISOString() ?? null,
          finishedAt: d.finishedAt?.toISOString() ?? null,
        })),
        trend,
      };
    },
  );

  app.get(
    "/dr/runs",
    {
      config: { access: "viewer" },
      schema: {
        summary: "List DR runs, newest first",
        tags: ["dr"],
        querystring: DrRunListQuery,
        response: { 200: DrRunPage, ...errorResponses },
      },
    },
    async (request) => {
      const { state, limit, cursor } = request.query;
      const runs = await db.drRun.findMany({
        where: { ...(state ? { state } : {}), ...(cursor ? { id: { lt: cursor } } : {}) },
        orderBy: { id: "desc" },
        take: limit + 1,
      });
      const page = runs.slice(0, limit);
      return {
        runs: page.map(toDrRunView),
        nextCursor: runs.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
    },
  );

  app.get(
    "/dr/runs/:id",
    {
      config: { access: "viewer" },
      schema: {
        summary: "Show a DR run: its steps with state, timing, output and live progress, its RTO and RPO",
        tags: ["dr"],
        params: IdParams,
        response: { 200: DrRunDetail, ...errorResponses },
      },
    },
    async (request) => detail(request.params.id),
  );

  app.post(
    "/dr/runs/:id/cancel",
    {
      config: { access: "operator", audit: { action: "dr.cancel", targetKind: "dr-run" } },
      schema: {
        summary: "Cancel a DR run",
        description:
          "Pending steps are cancelled, the running step's job is asked to stop; the run is cancelling until " +
          "that job ended, then cancelled. A finished run answers 409.",
        tags: ["dr"],
        params: IdParams,
        response: { 200: DrRunDetail, ...errorResponses },
      },
    },
    async (request) => {
      await guarded(() => dr.cancel(request.params.id, actorOf(request)));
      return detail(request.params.id);
    },
  );
};
