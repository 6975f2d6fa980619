import { RepoError } from "../../errors.js";
import type { Backend, FileHandle, FileInfo, FileType } from "../backend.js";

export type FaultMethod = "save" | "load" | "remove";

export interface Fault {
  method: FaultMethod;
  /** Only calls on this file type count; all types when unset. */
  type?: FileType;
  /** Fails the nth matching call (1-based) and every later one when `sticky`. */
  nth: number;
  sticky?: boolean;
  error: () => Error;
}

/** Fails chosen calls of a wrapped backend: the fault injector for failure-path tests (kopia's FaultyStorage). */
export class FaultyBackend implements Backend {
  readonly #counts = new Map<Fault, number>();

  constructor(
    private readonly inner: Backend,
    private readonly faults: Fault[],
  ) {}

  get location(): string {
    return this.inner.location;
  }

  create(): Promise<void> {
    return this.inner.create();
  }

  #maybeFail(method: FaultMethod, handle: FileHandle): void {
    for (const f of this.faults) {
      if (f.method !== method || (f.type !== undefined && f.type !== handle.type)) continue;
      const n = (this.#counts.get(f) ?? 0) + 1;
      this.#counts.set(f, n);
      if (n === f.nth || (f.sticky && n > f.nth)) throw f.error();
    }
  }

  async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    this.#maybeFail("save", handle);
    return this.inner.save(handle, data);
  }

  async load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    this.#maybeFail("load", handle);
    return this.inner.load(handle, range);
  }

  stat(handle: FileHandle): Promise<FileInfo | undefined> {
    return this.inner.stat(handle);
  }

  list(type: FileType): AsyncIterable<FileInfo> {
    return this.inner.list(type);
  }

  async remove(handle: FileHandle): Promise<void> {
    this.#maybeFail("remove", handle);
    return this.inner.remove(handle);
  }
}

export const noSpace = () => new RepoError("no_space", "no space left on the repository's disk (injected)");
