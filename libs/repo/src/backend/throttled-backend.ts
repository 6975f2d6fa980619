import { setTimeout as sleep } from "node:timers/promises";
import { RepoError } from "../errors.js";
import type { Backend, FileHandle, FileInfo, FileType, StagedFile } from "./backend.js";

/** Time source, replaceable in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<unknown>;
}

/**
 * Caps the bytes a backend is sent per second (an agent on a shared uplink
 * or SD card), as a decorator over any backend: a token bucket that holds up
 * to one second of burst. Reads, lists and removes pass through unthrottled.
 */
export class ThrottledBackend implements Backend {
  readonly location: string;
  /** Time (ms, monotonic) at which the bytes accepted so far have drained. */
  #drainedAt = 0;

  constructor(
    private readonly inner: Backend,
    private readonly bytesPerSecond: number,
    private readonly clock: Clock = { now: () => performance.now(), sleep: (ms) => sleep(ms) },
  ) {
    if (!(bytesPerSecond > 0)) {
      throw new RepoError(
        "invalid_argument",
        `bandwidth limit must be more than 0 bytes per second, not ${bytesPerSecond}`,
      );
    }
    this.location = inner.location;
    const stage = inner.stage?.bind(inner);
    if (stage) this.stage = async (type) => this.#throttled(await stage(type));
  }

  /** Staged files when the wrapped backend has them, their appends under the same limit. */
  readonly stage?: (type: FileType) => Promise<StagedFile>;

  #throttled(file: StagedFile): StagedFile {
    return {
      append: async (parts) => {
        await this.#admit(parts.reduce((n, part) => n + part.byteLength, 0));
        return file.append(parts);
      },
      commit: (name) => file.commit(name),
      discard: () => file.discard(),
    };
  }

  async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const size =
      data instanceof Uint8Array ? data.byteLength : data.reduce((n, part) => n + part.byteLength, 0);
    await this.#admit(size);
    return this.inner.save(handle, data);
  }

  /** Waits until `bytes` fit under the limit; concurrent savers queue behind each other. */
  async #admit(bytes: number): Promise<void> {
    const now = this.clock.now();
    const start = Math.max(this.#drainedAt, now - 1000);
    this.#drainedAt = start + (bytes / this.bytesPerSecond) * 1000;
    const wait = this.#drainedAt - now - 1000;
    if (wait > 0) await this.clock.sleep(wait);
  }

  load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    return this.inner.load(handle, range);
  }

  stat(handle: FileHandle): Promise<FileInfo | undefined> {
    return this.inner.stat(handle);
  }

  /** Repository.close() reaches only this decorator; a remote backend behind it has a connection to end. */
  async close(): Promise<void> {
    await (this.inner as Partial<{ close(): Promise<void> }>).close?.();
  }

  list(type: FileType): AsyncIterable<FileInfo> {
    return this.inner.list(type);
  }

  remove(handle: FileHandle): Promise<void> {
    return this.inner.remove(handle);
  }

  create(): Promise<void> {
    return this.inner.create();
  }

  /** Prune's clean-up of temporary files, when the wrapped backend has one. */
  async removeTemporaryFiles(minAgeMs?: number): Promise<number> {
    const inner = this.inner as Partial<{ removeTemporaryFiles(minAgeMs?: number): Promise<number> }>;
    return inner.removeTemporaryFiles ? inner.removeTemporaryFiles(minAgeMs) : 0;
  }
}
