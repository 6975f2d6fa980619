import type { BackendReader } from "../backend/backend.js";
import { mergeRanges, type PackRange, rangeIndexOf } from "./pack-ranges.js";

/** Only reads this small are merged (each is copied out of the merged read). */
const SMALL_READ = 256 * 1024;
const LIMITS = { gap: 64 * 1024, maxRange: 1024 * 1024 };

interface Request {
  pack: string;
  offset: number;
  length: number;
  resolve(bytes: Buffer): void;
  reject(err: unknown): void;
}

/**
 * Blob reads of a pack asked for in the same turn of the event loop become
 * one backend read per neighbourhood. A walk asks for a directory's subtrees
 * all at once, and trees written by one backup sit side by side in a few
 * packs: hundreds of small reads (a system call and a promise each) become a
 * handful. When a merged read fails (a truncated pack), each of its
 * requests is read again on its own, so a blob fails only for its own bytes.
 */
export class CoalescingPackReader {
  #waiting: Request[] = [];
  #scheduled = false;

  constructor(private readonly backend: Pick<BackendReader, "load">) {}

  read(pack: string, range: { offset: number; length: number }): Promise<Buffer> {
    if (range.length > SMALL_READ) return this.#load(pack, range.offset, range.length);
    const bytes = new Promise<Buffer>((resolve, reject) =>
      this.#waiting.push({ pack, offset: range.offset, length: range.length, resolve, reject }),
    );
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return bytes;
  }

  #flush(): void {
    this.#scheduled = false;
    const requests = this.#waiting;
    this.#waiting = [];
    const ranges = mergeRanges(requests, LIMITS);
    const grouped: Request[][] = ranges.map(() => []);
    for (const req of requests) grouped[rangeIndexOf(ranges, req.pack, req.offset)]?.push(req);
    for (const [i, range] of ranges.entries()) this.#readRange(range, grouped[i] as Request[]);
  }

  #readRange(range: PackRange, requests: readonly Request[]): void {
    if (requests.length === 1) {
      this.#readAlone(requests[0] as Request);
      return;
    }
    this.#load(range.pack, range.offset, range.end - range.offset).then(
      (bytes) => {
        // Each request gets its own copy: a caller may move its buffer to a
        // worker, which would empty every other view of a shared one.
        for (const r of requests) {
          const start = r.offset - range.offset;
          r.resolve(Buffer.from(bytes.subarray(start, start + r.length)));
        }
      },
      () => {
        for (const r of requests) this.#readAlone(r);
      },
    );
  }

  #readAlone(r: Request): void {
    this.#load(r.pack, r.offset, r.length).then(r.resolve, r.reject);
  }

  #load(pack: string, offset: number, length: number): Promise<Buffer> {
    return this.backend.load({ type: "data", name: pack }, { offset, length });
  }
}
