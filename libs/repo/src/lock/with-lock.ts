import { acquireLock, type LockOptions } from "./acquire-lock.js";
import type { LockRepository } from "./list-locks.js";
import type { LockHandle } from "./lock-handle.js";

/** Runs `fn` holding a lock and releases it afterwards, also when `fn` fails. */
export async function withLock<T>(
  repo: LockRepository,
  options: LockOptions,
  fn: (lock: LockHandle) => Promise<T>,
): Promise<T> {
  const lock = await acquireLock(repo, options);
  let result: T;
  try {
    result = await fn(lock);
  } catch (err) {
    // The operation's error matters more; a lock left behind turns stale by itself.
    await lock.release().catch(() => {});
    throw err;
  }
  await lock.release();
  return result;
}
