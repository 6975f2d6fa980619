import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type Catalog, openCatalog } from "@pwdr/catalog";
import { createLogger, type Logger } from "@pwdr/logging";
import {
  AgentSessionService,
  AgentStorageService,
  addService,
  EnrollmentService,
  serverCredentials,
} from "@pwdr/protocol";
import type { KdfParams } from "@pwdr/repo";
import { DEFAULT_AGENT_CERT_VALIDITY_MS } from "./agent-certificate-signing.js";
import { startApiServer } from "./api/api-server.js";
import { CertificateWatch } from "./certificate-watch.js";
import { type ControllerPki, loadOrCreateControllerPki } from "./controller-pki.js";
import { DrOrchestrator } from "./dr/orchestrator.js";
import { ScheduledDrills } from "./dr/scheduled-drills.js";
import { enrollmentHandlers } from "./enrollment-service.js";
import { startFleetStorage } from "./fleet-storage/fleet-storage.js";
import type { HostRepositories } from "./fleet-storage/host-repositories.js";
import { storageHandlers } from "./fleet-storage/storage-service.js";
import { HostPresence } from "./host-presence.js";
import { JobResults } from "./jobs/job-results.js";
import { LiveProgress } from "./jobs/live-progress.js";
import { ControllerEvents } from "./notifications/controller-events.js";
import { drEvent, jobEvent, rpoEvent } from "./notifications/event-sources.js";
import { findNotificationConfig, startNotifications } from "./notifications/notifications.js";
import type { ConcurrencyLimits } from "./scheduling/dispatch-load.js";
import { FleetScheduler } from "./scheduling/fleet-scheduler.js";
import { SessionRegistry } from "./session-registry.js";
import { sessionHandlers } from "./session-service.js";

export interface ControllerOptions {
  dataDir: string;
  /** Catalog URL; defaults to the embedded SQLite file in the data dir. */
  catalogUrl?: string;
  /** Loopback by default: exposing the controller is a deliberate choice. */
  host?: string;
  /** Mutual-TLS port for agent sessions; 0 picks a free port. */
  sessionPort?: number;
  /** Server-TLS port for enrollment; 0 picks a free port. */
  enrollPort?: number;
  /** HTTPS port of the REST API; 0 picks a free port. */
  apiPort?: number;
  /** Mutual-TLS port of the storage server for host repositories; 0 picks a free port. */
  storagePort?: number;
  /** scrypt cost of new host repositories' key files; the repository default when omitted (tests lower it). */
  repositoryKdf?: KdfParams;
  heartbeatIntervalMs?: number;
  /** Validity of the agent certificates it signs (90 days); agents renew after two thirds of it. */
  agentCertificateValidityMs?: number;
  /** How often the fleet scheduler creates owed jobs, checks RPOs and dispatches (default 5 s). */
  schedulerIntervalMs?: number;
  /** How often the DR orchestrator looks at active runs besides when jobs finish (default 2 s). */
  drIntervalMs?: number;
  /** Jobs in flight at once per repository and per site (defaults 4 and 8). */
  limits?: Partial<ConcurrencyLimits>;
  /** Webhook targets (JSON, docs/notifications.md); `<data-dir>/notifications.json` when present otherwise. */
  notificationsFile?: string;
  log?: Logger;
}

export interface RunningController {
  db: Catalog;
  pki: ControllerPki;
  sessions: SessionRegistry;
  /** Call `dispatchSoon()` after creating a job or finishing one, so it is sent without waiting for a tick. */
  scheduler: FleetScheduler;
  /** Advances DR runs; `wake()` after changing one. */
  dr: DrOrchestrator;
  /** Failed runs, RPO breaches, expiring certificates and DR runs, as they happen (notifications). */
  events: ControllerEvents;
  sessionAddress: string;
  enrollAddress: string;
  /** https://<host>:<port> of the REST API (routes under /api/v1). */
  apiUrl: string;
  /** https://<host>:<port> of the storage server (routes under /v1/repos). */
  storageUrl: string;
  repositories: HostRepositories;
  catalogUrl: string;
  close(): Promise<void>;
}

// Each agent holds one connection with one stream. Channelz would keep
// bookkeeping per connection that nothing here reads.
const SESSION_SERVER_OPTIONS: grpc.ServerOptions = { "grpc.enable_channelz": 0 };

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((ok, fail) =>
    server.bindAsync(address, creds, (err, port) => (err ? fail(err) : ok(port))),
  );
}

function shutdown(server: grpc.Server): Promise<void> {
  return new Promise((done) => {
    const force = setTimeout(() => server.forceShutdown(), 5_000);
    server.tryShutdown(() => {
      clearTimeout(force);
      done();
    });
  });
}

/** Starts the controller: PKI, catalog (migrated), enrollment and session endpoints. */
export async function startController(options: ControllerOptions): Promise<RunningController> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const log = options.log ?? createLogger("controller");
  const host = options.host ?? "127.0.0.1";
  const catalogUrl = options.catalogUrl ?? `file:${join(dataDir, "catalog.db")}`;
  // Read first: a wrong webhook configuration stops the start before anything listens.
  const notificationConfig = await findNotificationConfig(dataDir, options.notificationsFile);
  const events = new ControllerEvents(log);
  const pki = await loadOrCreateControllerPki(dataDir);
  const catalog = await openCatalog({ url: catalogUrl });
  const sessions = new SessionRegistry();
  const certificateValidityMs = options.agentCertificateValidityMs ?? DEFAULT_AGENT_CERT_VALIDITY_MS;
  const storage = await startFleetStorage({
    db: catalog.db,
    dataDir,
    pki,
    host,
    port: options.storagePort ?? 0,
    log,
    ...(options.repositoryKdf ? { kdf: options.repositoryKdf } : {}),
  }).catch(async (err: unknown) => {
    await catalog.close();
    throw err;
  });

  // The scheduler creates due drills on its ticks; the orchestrator runs them and
  // sends their steps' jobs through the scheduler's dispatch.
  const drills = new ScheduledDrills({
    db: catalog.db,
    sessions,
    log,
    started: () => dr.wake(),
    refused: (run) => events.publish(drEvent({ phase: "finished", run })),
  });
  const scheduler = new FleetScheduler({
    db: catalog.db,
    sessions,
    repositories: storage.repositories,
    log,
    onRpoChange: (change) => events.publish(rpoEvent(change)),
    ...(options.schedulerIntervalMs ? { intervalMs: options.schedulerIntervalMs } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
    onTick: async (hosts, now) => {
      await drills.tick(hosts, now);
    },
  });

  const dr = new DrOrchestrator({
    db: catalog.db,
    sessions,
    log,
    onJobCreated: () => scheduler.dispatchSoon(),
    onRunEvent: (change) => events.publish(drEvent(change)),
    ...(options.drIntervalMs ? { intervalMs: options.drIntervalMs } : {}),
  });

  const progress = new LiveProgress();
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 10_000;
  const presence = new HostPresence(catalog.db, { log, silentAfterMs: 3 * heartbeatIntervalMs });
  const certificates = new CertificateWatch(catalog.db, { intervalMs: heartbeatIntervalMs, log });
  const sessionServer = new grpc.Server(SESSION_SERVER_OPTIONS);
  const sessionCreds = serverCredentials({
    caPem: pki.ca.certPem,
    identity: pki.server,
    requireClientCertificate: true,
  });
  const sessionPort = await bind(sessionServer, `${host}:${options.sessionPort ?? 0}`, sessionCreds);
  const sessionAddress = `${host}:${sessionPort}`;
  addService(
    sessionServer,
    AgentSessionService,
    sessionHandlers({
      db: catalog.db,
      pki,
      certificateValidityMs,
      sessions,
      presence,
      certificates,
      heartbeatIntervalMs,
      jobs: new JobResults({
        db: catalog.db,
        progress,
        log,
        onRecorded: (recorded) => {
          const event = jobEvent(recorded);
          if (event) events.publish(event);
        },
      }),
      log,
      hooks: {
        helloed: (session, hello) => scheduler.helloed(session, hello),
        ended: (session) => scheduler.ended(session),
        // A finished job may finish a DR step.
        dispatchSoon: () => {
          scheduler.dispatchSoon();
          dr.wake();
        },
      },
    }),
  );
  addService(
    sessionServer,
    AgentStorageService,
    storageHandlers({
      db: catalog.db,
      repositories: storage.repositories,
      storagePort: storage.server.port,
      log,
    }),
  );

  const enrollServer = new grpc.Server();
  const enrollCreds = serverCredentials({
    caPem: pki.ca.certPem,
    identity: withChain(pki),
    requireClientCertificate: false,
  });
  const enrollPort = await bind(enrollServer, `${host}:${options.enrollPort ?? 0}`, enrollCreds);
  addService(
    enrollServer,
    EnrollmentService,
    enrollmentHandlers({
      db: catalog.db,
      pki,
      sessionAddress,
      certificateValidityMs,
      log,
      repositories: storage.repositories,
    }),
  );

  const api = await startApiServer({
    db: catalog.db,
    caFingerprint: pki.caFingerprint,
    sessions,
    progress,
    log,
    onJobCreated: () => scheduler.dispatchSoon(),
    dr,
    repositories: storage.repositories,
    onPolicyChange: () => {
      scheduler.policiesChanged().catch((err: unknown) => {
        log.error("pushing changed policies to agents failed", { error: String(err) });
      });
    },
    host,
    port: options.apiPort ?? 0,
    tls: { cert: withChain(pki).certPem, key: pki.server.keyPem },
  }).catch(async (err: unknown) => {
    // Without this the gRPC servers would keep a half-started controller alive.
    await Promise.all([shutdown(sessionServer), shutdown(enrollServer), storage.server.close()]);
    certificates.close();
    await presence.close();
    await catalog.close();
    throw new Error(
      `REST API cannot listen on ${host}:${options.apiPort ?? 0} (${(err as Error).message}); pick another --api-port`,
    );
  });

  const notifications = notificationConfig
    ? startNotifications({ config: notificationConfig, events, db: catalog.db, log })
    : undefined;
  scheduler.start();
  dr.start();
  log.info("controller started", {
    sessionAddress,
    enrollAddress: `${host}:${enrollPort}`,
    apiUrl: api.url,
    storageUrl: storage.server.url,
    dataDir,
  });
  return {
    db: catalog.db,
    pki,
    sessions,
    scheduler,
    dr,
    events,
    sessionAddress,
    enrollAddress: `${host}:${enrollPort}`,
    apiUrl: api.url,
    storageUrl: storage.server.url,
    repositories: storage.repositories,
    catalogUrl,
    async close() {
      await dr.stop();
      await scheduler.stop();
      await notifications?.close();
      sessions.closeAll(grpc.status.UNAVAILABLE, "controller is shutting down");
      await Promise.all([
        shutdown(sessionServer),
        shutdown(enrollServer),
        api.close(),
        storage.server.close(),
      ]);
      certificates.close();
      await presence.close();
      await catalog.close();
    },
  };
}

// The enrollment port sends the CA with its certificate so a new agent can
// find the CA its token pins; the API does the same for clients that pin the CA.
function withChain(pki: ControllerPki) {
  return { certPem: pki.server.certPem + pki.ca.certPem, keyPem: pki.server.keyPem };
}
