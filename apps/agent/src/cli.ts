import { Command, InvalidArgumentError } from "commander";
import { loadIdentity } from "./agent-identity.js";
import { enrollAgent } from "./enroll.js";
import { createLogger } from "./logger.js";
import { SessionClient } from "./session-client.js";

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
      const identity = await loadIdentity(opts.dataDir);
      const session = new SessionClient({ identity, dataDir: opts.dataDir, labels: opts.label, log });
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
    .addCommand(runCommand());
}

export async function runCli(argv: string[]): Promise<void> {
  try {
    await agentCli().parseAsync(argv);
  } catch (err) {
    createLogger("agent").error((err as Error).message, { code: (err as { code?: string }).code });
    process.exitCode = 1;
  }
}
