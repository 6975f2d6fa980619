import type { ServiceControl } from "../definition/host-definition.js";
import { runCommand, shell } from "./run-command.js";

/** Stop and start of one service (or group of services) on this host. */
export interface ServiceHooks {
  stop(): Promise<void>;
  start(): Promise<void>;
  /** For plans and reports: what stop and start will run. */
  describe(): { stop: string; start: string };
}

/**
 * The host's configured way to control `what` ("the application services",
 * "Redis cache"): systemctl for units, `docker compose` for a compose
 * project, or the operator's own shell commands.
 */
export function serviceHooks(control: ServiceControl, what: string): ServiceHooks {
  const commands = commandsOf(control);
  const run = (argv: string[], verb: string) =>
    runCommand({ argv, timeoutMs: control.timeoutMs, purpose: `${verb} of ${what}` }).then(() => {});
  return {
    stop: () => run(commands.stop, "stop"),
    start: () => run(commands.start, "start"),
    describe: () => ({ stop: display(commands.stop), start: display(commands.start) }),
  };
}

function commandsOf(control: ServiceControl): { stop: string[]; start: string[] } {
  switch (control.type) {
    case "systemd":
      return {
        stop: ["systemctl", "stop", ...control.units],
        start: ["systemctl", "start", ...control.units],
      };
    case "compose":
      return {
        stop: ["docker", "compose", "-f", control.file, "stop", ...control.services],
        start: ["docker", "compose", "-f", control.file, "up", "-d", ...control.services],
      };
    case "commands":
      return { stop: shell(control.stop), start: shell(control.start) };
  }
}

function display(argv: string[]): string {
  if (argv[0] === "/bin/sh" && argv[1] === "-c") return argv[2] ?? "";
  return argv.join(" ");
}
