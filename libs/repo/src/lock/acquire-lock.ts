import { setTimeout as sleep } from "node:timers/promises";
import { RepoError } from "../errors.js";
import { type LockEntry, type LockRepository, listLocks } from "./list-locks.js";
import { conflicts, describeLock } from "./lock-file.js";
import { LockHandle } from "./lock-handle.js";

export interface LockOptions {
  exclusive: boolean;
  /** What this process is doing, shown to whoever it blocks ("backup", "prune"). */
  operation: string;
  /** How long to wait for conflicting locks to go away; 0 (the default) fails at once. */
  waitMs?: number;
}

const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 5_000;
const COLLISION_MIN_MS = 20;
const COLLISION_SPREAD_MS = 200;
// Each collision halves the chance of the next; beyond this the backend is misbehaving.
const MAX_COLLISIONS = 20;

/**
 * Takes a lock (§11). Conflicting locks that are not stale make it wait,
 * polling with backoff, up to `waitMs`, then fail with `repo_locked` naming
 * the holder. An unreadable lock file conflicts with everything: it might be
 * anyone's, and `unlock` removes it.
 *
 * Two processes may each check, find nothing and write their locks at the
 * same moment, so every acquirer lists again after writing. Whoever wrote
 * second sees the other's lock, since the backend reads after writes; both
 * may see each other, then both withdraw and retry after a random pause, so
 * conflicting holders never both proceed and one of them soon does.
 */
export async function acquireLock(repo: LockRepository, options: LockOptions): Promise<LockHandle> {
  const deadline = Date.now() + (options.waitMs ?? 0);
  let poll = FIRST_POLL_MS;
  let collisions = 0;
  for (;;) {
    const blocker = await findConflict(repo, options.exclusive);
    if (blocker) {
      const left = deadline - Date.now();
      if (left <= 0) throw lockedError(blocker, options);
      await sleep(Math.min(poll, left));
      poll = Math.min(poll * 2, MAX_POLL_MS);
      continue;
    }
    const handle = await LockHandle.create(repo, options);
    const raced = await findConflict(repo, options.exclusive, handle.name);
    if (!raced) return handle;
    await handle.release();
    if (++collisions > MAX_COLLISIONS) throw lockedError(raced, options);
    await sleep(COLLISION_MIN_MS + Math.random() * COLLISION_SPREAD_MS);
  }
}

async function findConflict(
  repo: LockRepository,
  exclusive: boolean,
  own?: string,
): Promise<LockEntry | undefined> {
  const entries = await listLocks(repo);
  return entries.find(
    (e) =>
      e.name !== own &&
      (e.lock === undefined || (e.staleReason === undefined && conflicts(exclusive, e.lock))),
  );
}

function lockedError(blocker: LockEntry, options: LockOptions): RepoError {
  const wanted = `${options.exclusive ? "an exclusive" : "a shared"} lock for "${options.operation}"`;
  if (!blocker.lock) {
    return new RepoError(
      "repo_locked",
      `cannot take ${wanted}: lock file locks/${blocker.name} cannot be read (${blocker.error}); if no other process uses the repository, remove it with \`unlock\``,
    );
  }
  return new RepoError(
    "repo_locked",
    `cannot take ${wanted}: the repository is locked, ${describeLock(blocker.lock)}; wait for it to finish, or if that process no longer runs, remove its lock with \`unlock\``,
  );
}
