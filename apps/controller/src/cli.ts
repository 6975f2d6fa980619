import { openCatalog } from "@pwdr/catalog";
import { createLogger } from "@pwdr/logging";
import { Command, InvalidArgumentError } from "commander";
import { loadOrCreateControllerPki } from "./controller-pki.js";
import { startController } from "./controller-server.js";
import { parseDuration } from "./duration.js";
import { createEnrollmentToken } from "./enrollment-tokens.js";
import { listHosts, renderHostTable } from "./host-list.js";

const DEFAULT_DATA_DIR = "/var/lib/pwdr-controller";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError("expected a port number 0-65535");
  return n;
}

function label(value: string, previous: Record<string, string>): Record<string, string> {
  const [key, ...rest] = value.split("=");
  if (!key || rest.length === 0) throw new InvalidArgumentError(`label "${value}" must look like key=value`);
  return { ...previous, [key]: rest.join("=") };
}

function serveCommand(): Command {
  return new Command("serve")
    .description("run the controller: catalog, CA, enrollment and agent session endpoints")
    .option("--data-dir <dir>", "state directory (CA, SQLite catalog)", DEFAULT_DATA_DIR)
    .option("--catalog <url>", "catalog database URL (file:… for SQLite, postgresql://… for PostgreSQL)")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--session-port <port>", "mutual-TLS port for agent sessions", port, 7443)
    .option("--enroll-port <port>", "TLS port for agent enrollment", port, 7444)
    .action(async (opts) => {
      const controller = await startController({
        dataDir: opts.dataDir,
        catalogUrl: opts.catalog,
        host: opts.host,
        sessionPort: opts.sessionPort,
        enrollPort: opts.enrollPort,
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
  token
    .command("create")
    .description("create a one-time enrollment token (printed once, stored only as a hash)")
    .option("--data-dir <dir>", "controller state directory", DEFAULT_DATA_DIR)
    .option("--catalog <url>", "catalog database URL")
    .option("--ttl <duration>", "how long the token stays valid", "24h")
    .option("--label <key=value>", "label for the enrolled host (repeatable)", label, {})
    .option("--json", "print JSON")
    .action(async (opts) => {
      const pki = await loadOrCreateControllerPki(opts.dataDir);
      const catalog = await openCatalog({ url: opts.catalog ?? `file:${opts.dataDir}/catalog.db` });
      try {
        const created = await createEnrollmentToken(catalog.db, pki.caFingerprint, {
          ttlMs: parseDuration(opts.ttl, "--ttl"),
          labels: opts.label,
          createdBy: "cli",
        });
        if (opts.json) process.stdout.write(`${JSON.stringify(created)}\n`);
        else process.stdout.write(`${created.token}\n`);
      } finally {
        await catalog.close();
      }
    });
  return token;
}

function hostsCommand(): Command {
  return new Command("hosts")
    .description("list enrolled hosts with their state and last contact")
    .option("--data-dir <dir>", "controller state directory", DEFAULT_DATA_DIR)
    .option("--catalog <url>", "catalog database URL")
    .option("--json", "print JSON")
    .action(async (opts) => {
      const catalog = await openCatalog({ url: opts.catalog ?? `file:${opts.dataDir}/catalog.db` });
      try {
        const hosts = await listHosts(catalog.db);
        process.stdout.write(opts.json ? `${JSON.stringify(hosts)}\n` : renderHostTable(hosts));
      } finally {
        await catalog.close();
      }
    });
}

export function controllerCli(): Command {
  return new Command("pwdr-controller")
    .description("PWDR controller: fleet catalog, scheduling and disaster recovery")
    .addCommand(serveCommand())
    .addCommand(tokenCommand())
    .addCommand(hostsCommand());
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await controllerCli().parseAsync(argv);
  } catch (err) {
    createLogger("controller").error((err as Error).message);
    process.exitCode = 1;
  }
}
