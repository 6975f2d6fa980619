import { resourceRegistry } from "./resource-registry.js";

/**
 * Watches a pid file written by a daemon the code under test starts (a
 * service hook's `redis-server --daemonize yes`, an app started in the
 * background): stopAll(), exit or the watchdog kill whatever pid it holds
 * then, before temp dirs are removed.
 */
export function watchPidFile(path: string): void {
  resourceRegistry().add({ kind: "pidfile", path });
}
