/** Something a test created that must not outlive it; serialisable so the watchdog can read it. */
export type Resource =
  /** A helper (initdb, pg_ctl start) still running: awaited so it cannot recreate what is removed. */
  | { kind: "command"; pid: number }
  | { kind: "postgres"; pgCtl: string; dataDir: string; runAsUser: string | null }
  /** Killed with SIGKILL. */
  | { kind: "process"; pid: number }
  /** A daemon started outside the harness (e.g. by a service hook under test): SIGKILL to the pid in the file. */
  | { kind: "pidfile"; path: string }
  | { kind: "directory"; path: string };

export function cleanUp(resources: readonly Resource[], log?: (line: string) => void): string[];

export function isRunning(pid: number): boolean;
