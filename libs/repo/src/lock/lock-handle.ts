import { hostname } from "node:os";
import { RepoError } from "../errors.js";
import type { LockRepository } from "./list-locks.js";
import { LOCK_REFRESH_MS, LOCK_STALE_MS, type LockInfo } from "./lock-file.js";

/**
 * A lock this process holds. It rewrites its file every LOCK_REFRESH_MS so
 * others do not take it for stale; once it finds that it was removed, or that
 * it went unrefreshed long enough for others to ignore it, it is lost and
 * every later `refresh` fails, so the holder stops before harming anyone.
 */
export class LockHandle {
  #name: string;
  #info: LockInfo;
  #refreshedAt: number;
  #lost: RepoError | undefined;
  #released = false;
  #queue: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  private constructor(
    private readonly repo: LockRepository,
    name: string,
    info: LockInfo,
  ) {
    this.#name = name;
    this.#info = info;
    this.#refreshedAt = Date.parse(info.refreshedAt);
    // A failed automatic refresh is retried at the next tick; `refresh` callers see the error.
    this.#timer = setInterval(() => void this.refresh().catch(() => {}), LOCK_REFRESH_MS);
    // The lock must not keep a finished process alive.
    this.#timer.unref();
  }

  /** Writes a lock file for this process without looking at others': use acquireLock. */
  static async create(
    repo: LockRepository,
    options: { exclusive: boolean; operation: string },
  ): Promise<LockHandle> {
    const now = new Date().toISOString();
    const info: LockInfo = {
      exclusive: options.exclusive,
      host: hostname(),
      pid: process.pid,
      time: now,
      refreshedAt: now,
      operation: options.operation,
    };
    return new LockHandle(repo, await repo.saveJson("locks", info), info);
  }

  /** Current file name under `locks/`; changes with every refresh (files are named by their content). */
  get name(): string {
    return this.#name;
  }

  get info(): Readonly<LockInfo> {
    return this.#info;
  }

  /**
   * Rewrites the lock now. Destructive steps call it first: it fails with
   * `repo_locked` when the lock was lost.
   */
  refresh(): Promise<void> {
    const run = this.#queue.then(() => this.#refresh());
    this.#queue = run.catch(() => {});
    return run;
  }

  async #refresh(): Promise<void> {
    if (this.#released) return;
    if (this.#lost) throw this.#lost;
    const silent = Date.now() - this.#refreshedAt;
    if (silent > LOCK_STALE_MS) {
      this.#lose(
        `it was not refreshed for ${Math.floor(silent / 60_000)} minutes (was the process suspended?), so other processes may have ignored it`,
      );
    }
    if (!(await this.repo.backend.stat({ type: "locks", name: this.#name }))) {
      this.#lose("its file was removed, probably by `unlock`");
    }
    const info = { ...this.#info, refreshedAt: new Date().toISOString() };
    const name = await this.repo.saveJson("locks", info);
    const old = this.#name;
    this.#name = name;
    this.#info = info;
    this.#refreshedAt = Date.parse(info.refreshedAt);
    // New file first, then the old one goes: the lock never disappears in between.
    if (old !== name) await this.repo.backend.remove({ type: "locks", name: old });
  }

  #lose(why: string): never {
    clearInterval(this.#timer);
    const kind = this.#info.exclusive ? "exclusive" : "shared";
    this.#lost = new RepoError(
      "repo_locked",
      `lost the ${kind} repository lock for "${this.#info.operation}": ${why}; stopping so as not to interfere with another process`,
    );
    throw this.#lost;
  }

  /** Stops refreshing and removes the lock file. Safe to call twice. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#timer);
    await this.#queue;
    await this.repo.backend.remove({ type: "locks", name: this.#name });
  }
}
