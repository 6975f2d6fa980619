import { hostname } from "node:os";
import { isRepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import { decodeLock, type LockInfo, type StaleContext, staleReason } from "./lock-file.js";
import { processAlive } from "./process-alive.js";

export type LockRepository = Pick<Repository, "backend" | "loadJson" | "saveJson">;

/** One file in `locks/`. */
export interface LockEntry {
  name: string;
  /** Absent when the file cannot be read (`error` says why). */
  lock?: LockInfo;
  /** Why the lock is stale (§11); absent while its holder may still be running. */
  staleReason?: string;
  error?: string;
}

async function readEntry(
  repo: LockRepository,
  name: string,
  ctx: StaleContext,
): Promise<LockEntry | undefined> {
  try {
    const lock = decodeLock(await repo.loadJson("locks", name), name);
    const reason = staleReason(lock, ctx);
    return reason === undefined ? { name, lock } : { name, lock, staleReason: reason };
  } catch (err) {
    // Gone between listing and reading: its holder released or refreshed it.
    if (isRepoError(err, "blob_missing")) return undefined;
    if (isRepoError(err, "data_corrupt")) return { name, error: err.message };
    throw err;
  }
}

/** Every lock in the repository, with whether it is stale or unreadable. */
export async function listLocks(repo: LockRepository): Promise<LockEntry[]> {
  const ctx: StaleContext = { now: Date.now(), host: hostname(), isAlive: processAlive };
  const entries: LockEntry[] = [];
  for await (const f of repo.backend.list("locks")) {
    const entry = await readEntry(repo, f.name, ctx);
    if (entry) entries.push(entry);
  }
  return entries;
}

/**
 * For `unlock`: removes stale locks and unreadable lock files (no holder can
 * refresh those, yet they block everyone); with `all`, removes every lock,
 * including those of running processes, which then stop at their next refresh.
 */
export async function removeStaleLocks(
  repo: LockRepository,
  options: { all?: boolean } = {},
): Promise<{ removed: string[] }> {
  const removed: string[] = [];
  for (const entry of await listLocks(repo)) {
    if (!options.all && entry.lock && entry.staleReason === undefined) continue;
    await repo.backend.remove({ type: "locks", name: entry.name });
    removed.push(entry.name);
  }
  return { removed };
}
