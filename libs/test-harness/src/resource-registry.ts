import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanUp, type Resource } from "../watchdog/cleanup.mjs";

const WATCHDOG_SCRIPT = new URL("../watchdog/watchdog.mjs", import.meta.url);
const REGISTRY_KEY = Symbol.for("@pwdr/test-harness/resource-registry");

/**
 * Every resource of this process that must not outlive it. The list is mirrored synchronously to a
 * state file before each resource is used, so the watchdog knows about it even if the process is
 * SIGKILLed the next instant.
 */
class ResourceRegistry {
  private readonly resources = new Map<number, Resource>();
  private nextId = 1;
  private stateDir: string | undefined;

  add(resource: Resource): number {
    const id = this.nextId++;
    this.resources.set(id, resource);
    this.save();
    return id;
  }

  replace(id: number, resource: Resource): void {
    this.resources.set(id, resource);
    this.save();
  }

  /** Drops resources that ended on their own (a helper command that exited). */
  forget(id: number): void {
    this.resources.delete(id);
    this.save();
  }

  /** Tears the resources down and drops them; throws if any of them could not be removed. */
  dispose(ids: readonly number[]): void {
    const resources = ids.flatMap((id) => this.resources.get(id) ?? []);
    const failures = cleanUp(resources);
    for (const id of ids) this.resources.delete(id);
    this.save();
    if (failures.length > 0) throw new Error(`test resources could not be removed:\n${failures.join("\n")}`);
  }

  disposeAll(): void {
    this.dispose([...this.resources.keys()]);
  }

  private save(): void {
    const firstSave = this.stateDir === undefined;
    this.stateDir ??= mkdtempSync(join(tmpdir(), "pwdr-harness-watchdog-"));
    const stateFile = join(this.stateDir, "state.json");
    // Written aside and renamed, so the watchdog never reads half a file.
    writeFileSync(
      `${stateFile}.tmp`,
      JSON.stringify({ ownerPid: process.pid, resources: [...this.resources.values()] }),
    );
    renameSync(`${stateFile}.tmp`, stateFile);
    // Started only once the state exists, so it never sees a resource-less gap.
    if (firstSave) this.startWatchdog(this.stateDir);
  }

  private startWatchdog(stateDir: string): void {
    const log = openSync(join(stateDir, "watchdog.log"), "a");
    const args = [fileURLToPath(WATCHDOG_SCRIPT), String(process.pid), stateDir];
    const watchdog = spawn(process.execPath, args, {
      detached: true,
      stdio: ["ignore", log, log],
      // Plain JavaScript: loaders or an inspector meant for the tests must not apply to it.
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    closeSync(log);
    watchdog.on("error", (error) => {
      process.emitWarning(
        `test-harness cleanup watchdog did not start (${error.message}); resources are removed on normal exit only`,
      );
    });
    watchdog.unref();
    // Covers a normal exit even without stopAll(); signals and SIGKILL are the watchdog's job.
    process.once("exit", () => cleanUp([...this.resources.values()]));
  }
}

/** One registry per process (or worker thread), shared by every copy of this module a test runner loads. */
export function resourceRegistry(): ResourceRegistry {
  const holder = globalThis as { [REGISTRY_KEY]?: ResourceRegistry };
  holder[REGISTRY_KEY] ??= new ResourceRegistry();
  return holder[REGISTRY_KEY];
}

/** Stops every server and removes every temporary directory this process started; for `afterAll`. */
export async function stopAll(): Promise<void> {
  resourceRegistry().disposeAll();
}
