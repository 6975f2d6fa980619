// The web dashboard's side of the controller: sign-in sessions, the
// dashboard's own API routes and the built app's files. Wired into the API
// by build-api.ts; the app itself lives in apps/dashboard.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Catalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { FastifyInstance } from "fastify";
import type { SessionAuthenticator } from "../api/auth.js";
import { DashboardSessions } from "./dashboard-sessions.js";
import { fleetOverviewRoutes } from "./fleet-overview-route.js";
import { sessionAuthenticator } from "./session-auth.js";
import { sessionRoutes } from "./session-routes.js";
import { registerStaticAssets } from "./static-assets.js";

export interface DashboardOptions {
  db: Catalog;
  log: Logger;
  /** The built app; apps/dashboard/dist (the @pwdr/dashboard package's) when omitted. */
  distDir?: string | undefined;
  /** Sign-in lifetime (8 h when omitted); a session never outlives its token. */
  sessionTtlMs?: number | undefined;
}

/** Where the workspace build puts the dashboard. */
export function defaultDashboardDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@pwdr/dashboard/package.json")), "dist");
}

export class Dashboard {
  readonly sessions: DashboardSessions;
  /** For the auth plugin: a request without a bearer token may be signed in by its session cookie. */
  readonly authenticate: SessionAuthenticator;

  constructor(private readonly options: DashboardOptions) {
    this.sessions = new DashboardSessions({
      db: options.db,
      ...(options.sessionTtlMs ? { ttlMs: options.sessionTtlMs } : {}),
    });
    this.authenticate = sessionAuthenticator(this.sessions);
  }

  /** Routes under /api/v1 the app needs besides the REST API: sign-in/out and the fleet overview. */
  readonly apiRoutes = async (v1: FastifyInstance): Promise<void> => {
    await v1.register(sessionRoutes, { db: this.options.db, sessions: this.sessions });
    await v1.register(fleetOverviewRoutes, { db: this.options.db });
  };

  /** `/` and `/assets/*`: the app. */
  readonly pages = async (app: FastifyInstance): Promise<void> => {
    registerStaticAssets(app, this.options.distDir ?? defaultDashboardDir(), this.options.log);
  };
}
