import { createLogger } from "@pwdr/logging";
import { Command, InvalidArgumentError } from "commander";
import { configCommand } from "./commands/agent-config.js";
import { backupCommand } from "./commands/backup.js";
import { checkCommand } from "./commands/check.js";
import { daemonCommand, EXIT_IDENTITY_REFUSED, nowCommand, runDaemon } from "./commands/daemon.js";
import { diffCommand } from "./commands/diff.js";
import { dumpCommand } from "./commands/dump.js";
import { forgetCommand } from "./commands/forget.js";
import { hostCommand } from "./commands/host.js";
import { initCommand } from "./commands/init.js";
import { keyCommand } from "./commands/key.js";
import { lsCommand } from "./commands/ls.js";
import { pruneCommand } from "./commands/prune.js";
import { restoreCommand } from "./commands/restore.js";
import { snapshotsCommand } from "./commands/snapshots.js";
import { historyCommand, statusCommand } from "./commands/status.js";
import { unlockCommand } from "./commands/unlock.js";
import { describeFailure } from "./ui/output.js";

const DEFAULT_DATA_DIR = "/var/lib/pwdr-agent";

function label(value: string, previous: Record<string, string>): Record<string, string> {
  const [key, ...rest] = value.split("=");
  if (!key || rest.length === 0) throw new InvalidArgumentError(`label "${value}" must look like key=value`);
  return { ...previous, [key]: rest.join("=") };
}

function enrollCommand(): Command {
  return new Command("enroll")
    .description("trade a one-time enrollment token for this agent's certificate")
    .requiredOption("--controller <host:port>", "the controller's enrollment address")
    .requiredOption("--token <token>", "token printed by `pwdr-controller token create`")
    .option("--data-dir <dir>", "agent state directory", DEFAULT_DATA_DIR)
    .option("--label <key=value>", "host label (repeatable)", label, {})
    .option("--json", "print JSON")
    .action(async (opts) => {
      // Loaded on use: the controller-facing modules (gRPC, X.509) would
      // otherwise slow every repository command's start.
      const { enrollAgent } = await import("./enroll.js");
      const identity = await enrollAgent({
        enrollAddress: opts.controller,
        token: opts.token,
        dataDir: opts.dataDir,
        labels: opts.label,
      });
      const summary = {
        hostId: identity.hostId,
        hostName: identity.hostName,
        session: identity.sessionAddress,
      };
      process.stdout.write(
        opts.json
          ? `${JSON.stringify(summary)}\n`
          : `enrolled as ${identity.hostName} (${identity.hostId})\n`,
      );
    });
}

function runCommand(): Command {
  return new Command("run")
    .description("run the agent connected to its controller; with -c also the daemon's jobs and schedules")
    .option("--data-dir <dir>", "agent state directory (where `enroll` left the identity)", DEFAULT_DATA_DIR)
    .option(
      "-c, --config <file>",
      "agent config: sources, repository and schedules (as `daemon` with controller.dataDir = --data-dir)",
    )
    .option("--label <key=value>", "host label (repeatable)", label, {})
    .action(async (opts: { dataDir: string; config?: string; label: Record<string, string> }) => {
      if (opts.config) {
        const { loadAgentConfig } = await import("./config/load-agent-config.js");
        const config = await loadAgentConfig(opts.config);
        config.controller = { catchUpGraceMs: 20_000, ...config.controller, dataDir: opts.dataDir };
        await runDaemon(config, opts.label);
        return;
      }
      await runUnconfigured(opts.dataDir, opts.label);
    });
}

/** The agent with only its identity: online for the controller, refusing jobs until it has a config. */
async function runUnconfigured(dataDir: string, labels: Record<string, string>): Promise<void> {
  const log = createLogger("agent");
  const { loadIdentity } = await import("./agent-identity.js");
  const { ControllerLink } = await import("./link/controller-link.js");
  const { unconfiguredExecutor } = await import("./link/job-executor.js");
  const link = new ControllerLink({
    identity: await loadIdentity(dataDir),
    dataDir,
    stateDir: dataDir,
    executor: unconfiguredExecutor,
    labels,
    catchUpGraceMs: 0,
    log,
  });
  // A refused identity stays refused: exit rather than retry, and let the operator re-enroll.
  link.once("refused", () => process.exit(EXIT_IDENTITY_REFUSED));
  await link.start();
  const stop = async () => {
    await link.stop(0);
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export function agentCli(): Command {
  return new Command("pwdr-agent")
    .description("PWDR agent: backs up and restores this host")
    .addCommand(enrollCommand())
    .addCommand(runCommand())
    .addCommand(initCommand())
    .addCommand(configCommand())
    .addCommand(daemonCommand())
    .addCommand(nowCommand())
    .addCommand(statusCommand())
    .addCommand(historyCommand())
    .addCommand(hostCommand())
    .addCommand(backupCommand())
    .addCommand(snapshotsCommand())
    .addCommand(lsCommand())
    .addCommand(diffCommand())
    .addCommand(restoreCommand())
    .addCommand(dumpCommand())
    .addCommand(checkCommand())
    .addCommand(forgetCommand())
    .addCommand(pruneCommand())
    .addCommand(unlockCommand())
    .addCommand(keyCommand());
}

/** Runs the CLI; failures print one line (or a JSON error with --json) and set the documented exit code. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await agentCli().parseAsync(argv);
  } catch (err) {
    const failure = describeFailure(err);
    if (argv.includes("--json"))
      process.stdout.write(
        `${JSON.stringify({ error: { code: failure.code, message: failure.message } })}\n`,
      );
    process.stderr.write(`error: ${failure.message}\n`);
    process.exitCode = failure.exitCode;
  }
}
