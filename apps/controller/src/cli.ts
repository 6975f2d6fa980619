import { createLogger } from "@pwdr/logging";
import { Command, InvalidArgumentError } from "commander";
import { apiCommand } from "./api-client/cli-api.js";
import { recordAuditEvent } from "./audit-log.js";
import { catalogCommand } from "./catalog-rebuild/cli-catalog.js";
import { apiTokenCommand } from "./cli-api-token.js";
import { DEFAULT_DATA_DIR, label, port, withCatalog, withCatalogOptions } from "./cli-options.js";
import { loadOrCreateControllerPki } from "./controller-pki.js";
import { startController } from "./controller-server.js";
import { parseDuration } from "./duration.js";
import { createEnrollmentToken } from "./enrollment-tokens.js";
import { listHosts, renderHostTable } from "./host-list.js";

function positiveDuration(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms === 0) throw new Error(`${what}: must be longer than 0, e.g. 90d`);
  return ms;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return n;
}

function serveCommand(): Command {
  return new Command("serve")
    .description("run the controller: catalog, CA, enrollment, agent session and REST API endpoints")
    .option(
      "--data-dir <dir>",
      "state directory (CA, master key, SQLite catalog, host repositories)",
      DEFAULT_DATA_DIR,
    )
    .option("--catalog <url>", "catalog database URL (file:… for SQLite, postgresql://… for PostgreSQL)")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--session-port <port>", "mutual-TLS port for agent sessions", port, 7443)
    .option("--enroll-port <port>", "TLS port for agent enrollment", port, 7444)
    .option("--api-port <port>", "HTTPS port of the REST API (/api/v1)", port, 7445)
    .option("--agent-cert-validity <duration>", "validity of agent certificates; agents renew at 2/3", "90d")
    .option("--heartbeat-interval <duration>", "how often agents send a heartbeat", "10s")
    .option("--storage-port <port>", "mutual-TLS port of the host repositories' storage server", port, 7446)
    .option("--scheduler-interval <duration>", "how often the scheduler creates and dispatches jobs", "5s")
    .option("--max-jobs-per-repository <n>", "jobs in flight at once per repository", positiveInteger, 4)
    .option("--max-jobs-per-site <n>", "jobs in flight at once per site", positiveInteger, 8)
    .option(
      "--notifications <file>",
      "webhook targets (JSON); default <data-dir>/notifications.json if present",
    )
    .action(async (opts) => {
      const controller = await startController({
        dataDir: opts.dataDir,
        catalogUrl: opts.catalog,
        host: opts.host,
        sessionPort: opts.sessionPort,
        enrollPort: opts.enrollPort,
        apiPort: opts.apiPort,
        agentCertificateValidityMs: positiveDuration(opts.agentCertValidity, "--agent-cert-validity"),
        heartbeatIntervalMs: positiveDuration(opts.heartbeatInterval, "--heartbeat-interval"),
        storagePort: opts.storagePort,
        schedulerIntervalMs: positiveDuration(opts.schedulerInterval, "--scheduler-interval"),
        limits: { perRepository: opts.maxJobsPerRepository, perSite: opts.maxJobsPerSite },
        ...(opts.notifications ? { notificationsFile: opts.notifications } : {}),
      });
      const stop = () => {
        controller.close().then(() => process.exit(0));
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}

function tokenCommand(): Command {
  const token = new Command("token").description("manage one-time enrollment tokens");
  withCatalogOptions(token.command("create"))
    .description("create a one-time enrollment token (printed once, stored only as a hash)")
    .option("--ttl <duration>", "how long the token stays valid", "24h")
    .option("--label <key=value>", "label for the enrolled host (repeatable)", label, {})
    .option("--json", "print JSON")
    .action(async (opts) => {
      const pki = await loadOrCreateControllerPki(opts.dataDir);
      const created = await withCatalog(opts, async (db) => {
        const row = await createEnrollmentToken(db, pki.caFingerprint, {
          ttlMs: parseDuration(opts.ttl, "--ttl"),
          labels: opts.label,
          createdBy: "cli",
        });
        await recordAuditEvent(db, {
          actor: "cli",
          action: "enrollment-token.create",
          target: `enrollment-token:${row.id}`,
          details: { outcome: "success", expiresAt: row.expiresAt.toISOString() },
        });
        return row;
      });
      process.stdout.write(opts.json ? `${JSON.stringify(created)}\n` : `${created.token}\n`);
    });
  return token;
}

function hostsCommand(): Command {
  return withCatalogOptions(new Command("hosts"))
    .description("list enrolled hosts with their state and last contact")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const hosts = await withCatalog(opts, listHosts);
      process.stdout.write(opts.json ? `${JSON.stringify(hosts)}\n` : renderHostTable(hosts));
    });
}

export function controllerCli(): Command {
  return new Command("pwdr-controller")
    .description("PWDR controller: fleet catalog, scheduling and disaster recovery")
    .addCommand(serveCommand())
    .addCommand(tokenCommand())
    .addCommand(hostsCommand())
    .addCommand(apiTokenCommand())
    .addCommand(catalogCommand())
    .addCommand(apiCommand());
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await controllerCli().parseAsync(argv);
  } catch (err) {
    createLogger("controller").error((err as Error).message);
    // A job followed with --wait exits with its outcome (3: partial, as the agent does).
    process.exitCode = (err as { exitCode?: number }).exitCode ?? 1;
  }
}
