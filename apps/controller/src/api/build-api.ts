import type { Catalog, Job } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import Fastify, { type FastifyInstance } from "fastify";
import { Dashboard } from "../dashboard/dashboard.js";
import { DrOrchestrator } from "../dr/orchestrator.js";
import { LiveProgress } from "../jobs/live-progress.js";
import { ControllerMetrics } from "../metrics/controller-metrics.js";
import { metricsRoute } from "../metrics/metrics-route.js";
import type { SessionRegistry } from "../session-registry.js";
import audit from "./audit.js";
import auth from "./auth.js";
import errorHandler from "./error-handler.js";
import openApi, { openApiRoute } from "./openapi.js";
import { apiTokenRoutes } from "./routes/api-tokens.js";
import { auditEventRoutes } from "./routes/audit-events.js";
import { drRoutes } from "./routes/dr.js";
import { enrollmentTokenRoutes } from "./routes/enrollment-tokens.js";
import { healthRoutes } from "./routes/health.js";
import { hostRoutes } from "./routes/hosts.js";
import { jobRoutes } from "./routes/jobs.js";
import { policyRoutes } from "./routes/policies.js";
import { recoveryPointRoutes } from "./routes/recovery-points.js";
import { snapshotRoutes } from "./routes/snapshots.js";
import type { HostRepositoryAccess } from "./routes/snapshots-tree.js";
import { ErrorBody } from "./schemas/error.js";

export const API_PREFIX = "/api/v1";

export interface ApiDependencies {
  db: Catalog;
  caFingerprint: string;
  /** The controller's open agent streams: revoking a host ends its stream. */
  sessions: SessionRegistry;
  log: Logger;
  /** Called after a policy was created, changed or deleted (the scheduler pushes agents' new policies). */
  onPolicyChange?: () => void;
  /** Live progress of running jobs, as the session service hears it; an empty one when omitted. */
  progress?: LiveProgress;
  /** Called with each job an operator creates (the dispatcher's `dispatchSoon`); nothing when omitted. */
  onJobCreated?: (job: Job) => void;
  /** Advances DR runs; one that is never started (runs only change on cancel) when omitted. */
  dr?: DrOrchestrator;
  /** Shown in the OpenAPI document. */
  version?: string;
  /** Served at /metrics; one over `db` and `sessions` when omitted. */
  metrics?: ControllerMetrics;
  /** The controller's host repositories, to list snapshots' files; listing answers 503 when omitted. */
  repositories?: HostRepositoryAccess;
  /** The built web dashboard served at `/`; apps/dashboard/dist when omitted. */
  dashboardDir?: string;
}

// Requests are small JSON documents; anything larger is a mistake or an attack.
const BODY_LIMIT_BYTES = 64 * 1024;

const SERVER_OPTIONS = {
  // Fastify's logger would print URLs and headers; our error handler logs what is safe.
  logger: false,
  bodyLimit: BODY_LIMIT_BYTES,
  // Unknown fields are an error, not silently dropped: a typo in a request must not pass.
  ajv: { customOptions: { removeAdditional: false, allErrors: true, coerceTypes: "array" as const } },
};

// The HTTPS instance differs from the plain one only in its raw server type,
// which no route touches; one instance type keeps the plugins simple.
function createInstance(tls: { cert: string; key: string } | undefined): FastifyInstance {
  return tls
    ? (Fastify({ ...SERVER_OPTIONS, https: tls }) as unknown as FastifyInstance)
    : Fastify(SERVER_OPTIONS);
}

/** The REST API as a Fastify instance (not listening): tests use inject(), serve() listens. */
export async function buildApi(
  deps: ApiDependencies,
  tls?: { cert: string; key: string },
): Promise<FastifyInstance> {
  const app = createInstance(tls);
  const progress = deps.progress ?? new LiveProgress();
  const dr =
    deps.dr ??
    new DrOrchestrator({ db: deps.db, sessions: deps.sessions, log: deps.log, onJobCreated: () => {} });
  app.addSchema(ErrorBody);
  await app.register(errorHandler, { log: deps.log });
  await app.register(openApi, { version: deps.version ?? "0.1.0" });
  const dashboard = new Dashboard({ db: deps.db, log: deps.log, distDir: deps.dashboardDir });
  await app.register(auth, { db: deps.db, sessions: dashboard.authenticate });
  await app.register(audit, { db: deps.db });
  await app.register(metricsRoute, {
    metrics: deps.metrics ?? new ControllerMetrics({ db: deps.db, sessions: deps.sessions }),
  });
  await app.register(
    async (v1) => {
      await v1.register(healthRoutes, { db: deps.db });
      await v1.register(openApiRoute);
      await v1.register(hostRoutes, { db: deps.db, sessions: deps.sessions });
      await v1.register(enrollmentTokenRoutes, { db: deps.db, caFingerprint: deps.caFingerprint });
      await v1.register(apiTokenRoutes, { db: deps.db });
      await v1.register(auditEventRoutes, { db: deps.db });
      await v1.register(policyRoutes, {
        db: deps.db,
        ...(deps.onPolicyChange ? { onChange: deps.onPolicyChange } : {}),
      });
      await v1.register(jobRoutes, {
        db: deps.db,
        sessions: deps.sessions,
        progress,
        onJobCreated: deps.onJobCreated ?? (() => {}),
      });
      await v1.register(drRoutes, { db: deps.db, sessions: deps.sessions, progress, dr });
      await v1.register(recoveryPointRoutes, { db: deps.db });
      await v1.register(snapshotRoutes, { db: deps.db, repositories: deps.repositories });
      await v1.register(dashboard.apiRoutes);
    },
    { prefix: API_PREFIX },
  );
  await app.register(dashboard.pages);
  await app.ready();
  return app;
}
