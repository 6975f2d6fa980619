import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { ServerStartError } from "./errors.js";
import { logTail } from "./log-tail.js";
import { redisAnswersPing } from "./redis-ping.js";
import { resourceRegistry } from "./resource-registry.js";
import { waitUntil } from "./wait-until.js";

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** One redis-server process at a time for a config file, registered for cleanup while it lives. */
export class RedisProcess {
  private child: ChildProcess | undefined;
  private resourceId: number | undefined;

  constructor(
    private readonly binary: string,
    private readonly configFile: string,
    private readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Registry id of the process, for tearing it down with its directory. */
  get registration(): number[] {
    return this.resourceId === undefined ? [] : [this.resourceId];
  }

  async start(host: string, port: number): Promise<void> {
    const child = this.spawn();
    await this.waitForPing(child, host, port);
  }

  /** SIGTERM lets Redis flush its AOF; SIGKILL only if it hangs. */
  async shutdown(): Promise<void> {
    const child = this.child;
    if (!child || hasExited(child)) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!stopped) {
      child.kill("SIGKILL");
      await exited;
    }
  }

  /** Own process group, so a Ctrl-C in the terminal reaches the harness's cleanup, not Redis directly. */
  private spawn(): ChildProcess {
    const child = spawn(this.binary, [this.configFile], { detached: true, stdio: "ignore" });
    child.on("error", () => {});
    child.unref();
    this.child = child;
    if (child.pid !== undefined) this.register(child.pid);
    return child;
  }

  private register(pid: number): void {
    const registry = resourceRegistry();
    if (this.resourceId === undefined) this.resourceId = registry.add({ kind: "process", pid });
    else registry.replace(this.resourceId, { kind: "process", pid });
  }

  private async waitForPing(child: ChildProcess, host: string, port: number): Promise<void> {
    const ready = await waitUntil(
      () => redisAnswersPing(host, port),
      READY_TIMEOUT_MS,
      () => hasExited(child),
    );
    if (ready) return;
    const why = hasExited(child)
      ? `exited (${child.exitCode ?? child.signalCode ?? "could not be spawned"})`
      : `did not answer PING within ${READY_TIMEOUT_MS} ms`;
    throw new ServerStartError(`redis-server on ${host}:${port} ${why}`, logTail(this.logFile));
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.pid === undefined || child.exitCode !== null || child.signalCode !== null;
}
