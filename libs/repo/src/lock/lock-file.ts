import { RepoError } from "../errors.js";

/** The content of a lock file (§11). */
export interface LockInfo {
  exclusive: boolean;
  host: string;
  pid: number;
  /** When the holder took the lock (RFC 3339). */
  time: string;
  /** When the holder last rewrote the lock (RFC 3339). */
  refreshedAt: string;
  /** What the holder is doing ("backup", "prune"), shown to whoever it blocks. */
  operation: string;
}

/** A holder rewrites its lock this often (§11). */
export const LOCK_REFRESH_MS = 5 * 60_000;
/** A lock not rewritten for this long belongs to a process that hung or died elsewhere (§11). */
export const LOCK_STALE_MS = 30 * 60_000;

/** What staleness is judged against, passed in to keep `staleReason` free of clocks and processes. */
export interface StaleContext {
  now: number;
  host: string;
  isAlive(pid: number): boolean;
}

export function decodeLock(json: unknown, name: string): LockInfo {
  const l = json as Partial<LockInfo> | null;
  const ok =
    typeof l === "object" &&
    l !== null &&
    typeof l.exclusive === "boolean" &&
    typeof l.host === "string" &&
    Number.isSafeInteger(l.pid) &&
    (l.pid as number) > 0 &&
    typeof l.time === "string" &&
    typeof l.refreshedAt === "string" &&
    !Number.isNaN(Date.parse(l.refreshedAt)) &&
    typeof l.operation === "string";
  if (!ok) throw new RepoError("data_corrupt", `lock ${name.slice(0, 12)} is malformed`);
  const { exclusive, host, pid, time, refreshedAt, operation } = l as LockInfo;
  return { exclusive, host, pid, time, refreshedAt, operation };
}

/** Why a lock no longer protects anything, or undefined while its holder may still be running. */
export function staleReason(lock: LockInfo, ctx: StaleContext): string | undefined {
  const silent = ctx.now - Date.parse(lock.refreshedAt);
  if (silent > LOCK_STALE_MS) return `not refreshed for ${Math.floor(silent / 60_000)} minutes`;
  if (lock.host === ctx.host && !ctx.isAlive(lock.pid)) {
    return `process ${lock.pid} no longer runs on ${lock.host}`;
  }
  return undefined;
}

/** Shared locks coexist; an exclusive lock excludes every other lock (§11). */
export function conflicts(wantExclusive: boolean, held: LockInfo): boolean {
  return wantExclusive || held.exclusive;
}

export function describeLock(lock: LockInfo): string {
  const kind = lock.exclusive ? "an exclusive" : "a shared";
  return `${kind} lock held by pid ${lock.pid} on ${lock.host} for "${lock.operation}" since ${lock.time} (last refreshed ${lock.refreshedAt})`;
}
