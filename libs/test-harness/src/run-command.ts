import { spawn } from "node:child_process";
import { once } from "node:events";
import { CommandFailedError } from "./errors.js";
import { resourceRegistry } from "./resource-registry.js";
import { commandAs, type ServiceAccount } from "./service-account.js";

/**
 * Runs a helper to completion and returns its output. While it runs it is registered, so an
 * interrupted test waits for it before removing the directories it writes to.
 */
export async function runCommand(
  account: ServiceAccount | null,
  file: string,
  args: readonly string[],
): Promise<string> {
  const [command, argv] = commandAs(account, file, args);
  // cwd "/" because the test's working directory may be unreadable for the service account.
  const child = spawn(command, argv, { cwd: "/", stdio: ["ignore", "pipe", "pipe"] });
  const registry = resourceRegistry();
  const id = child.pid === undefined ? undefined : registry.add({ kind: "command", pid: child.pid });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk));
  try {
    const [code, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
    if (code !== 0)
      throw new CommandFailedError(`${file} ${args.join(" ")}`, `exited with ${code ?? signal}`, output);
    return output;
  } finally {
    if (id !== undefined) registry.forget(id);
  }
}
