import { createLogger } from "@pwdr/logging";
import { Command, InvalidArgumentError } from "commander";
import { configCommand } from "./commands/agent-config.js";
import { backupCommand } from "./commands/backup.js";
import { checkCommand } from "./commands/check.js";
import { daemonCommand, nowCommand } from "./commands/daemon.js";
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
/** `run` ends with this when the controller refuses the agent's certificate (revoked, unknown, expired). */
const EXIT_IDENTITY_REFUSED = 4;

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
    .description("run the agent daemon connected to its controller")
    .option("--data-dir <dir>", "agent state directory", DEFAULT_DATA_DIR)
    .option("--label <key=value>", "host label (repeatable)", label, {})
    .action(async (opts) => {
      const log = createLogger("agent");
      const { loadIdentity } = await import("./agent-identity.js");
      const { SessionClient } = await import("./session-client.js");
      const identity = await loadIdentity(opts.dataDir);
      const session = new SessionClient({ identity, dataDir: opts.dataDir, labels: opts.label, log });
      // A refused identity stays refused: exit rather than retry, and let the operator re-enroll.
      session.once("refused", () => process.exit(EXIT_IDENTITY_REFUSED));
      session.start();
      const stop = () => {
        session.stop();
        process.exit(0);
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
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
