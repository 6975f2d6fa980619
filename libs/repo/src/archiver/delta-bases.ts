import { GarbageMeter } from "../../worker/garbage-meter.mjs";
import { type DeltaDictionary, MAX_DELTA_BASES, MAX_DELTA_DICTIONARY } from "../compression/codec.js";
import type { Repository } from "../repository.js";
import { BaseCache } from "./base-cache.js";
import type { Budget } from "./limiter.js";

/** Decides, once a chunk's id is known, what (if anything) a new chunk is delta-coded against. */
export interface DeltaChoice {
  choose(id: string, stored: boolean): Promise<DeltaDictionary | undefined>;
  /**
   * The chunk's save ended: `delta` says whether the worker kept a delta
   * (consecutive misses end delta coding for the file), undefined when none
   * was tried or the save failed (before `choose`, it gives up its turn).
   */
  settled(delta: boolean | undefined): void;
}

/** Bytes of delta dictionaries in flight, over all files of a backup: bounds memory. */
export const DICTIONARY_BYTES = 8 * 1024 * 1024;

// A new chunk whose expected place in the parent file is this close to the
// start of a parent chunk is taken to begin where that one began: content-
// defined boundaries mostly survive edits, so the two files line up again.
const SNAP_BYTES = 64 * 1024;
// This many deltas in a row that did not pay off mean the file is new
// content, not an edit of its parent: its other chunks are stored whole.
const MAX_MISSES = 4;
// Base plaintexts kept for the next chunks of the file, which mostly share some.
const CACHE_BYTES = 4 * 1024 * 1024;

type Span = { index: number; overlap: number };

// Evicted bases are dead buffers, which V8 keeps until its heap (not their
// bytes) calls for a collection: counted here, they are collected sooner.
const evicted = new GarbageMeter(8 * 1024 * 1024);

/**
 * Picks delta bases (§5.1) for the chunks of one file from the same path in
 * the parent snapshot. The new file is mapped onto the parent's by offset,
 * corrected by a drift that re-anchors on chunks found unchanged and on
 * parent chunk boundaries near where a new chunk starts; a new chunk's bases
 * are the parent chunks its mapped range overlaps (FastCDC's boundaries
 * near the average size move when content before them shifts, so one new
 * chunk often spans two old ones). Decisions are taken in chunk order, each
 * after the one before; loading the bases does not hold up the next one.
 */
export class DeltaBases {
  readonly #starts: number[] = [];
  readonly #position = new Map<string, number>();
  readonly #cache = new BaseCache<Buffer | undefined>(CACHE_BYTES, (size) => evicted.add(size));
  #drift = 0;
  #turn: Promise<void> = Promise.resolve();
  #misses = 0;

  private constructor(
    private readonly repo: Pick<Repository, "index" | "loadBlob">,
    private readonly parent: readonly string[],
    private readonly lengths: readonly number[],
    private readonly inFlight: Budget,
  ) {
    let start = 0;
    for (const [i, id] of parent.entries()) {
      this.#starts.push(start);
      start += lengths[i] as number;
      if (!this.#position.has(id)) this.#position.set(id, i);
    }
  }

  /** Bases from `parentContent`, or undefined when there is none or the repository codes no deltas. */
  static for(
    repo: Pick<Repository, "index" | "loadBlob" | "deltaCoding">,
    parentContent: readonly string[] | undefined,
    inFlight: Budget,
  ): DeltaBases | undefined {
    if (!repo.deltaCoding || !parentContent?.length) return undefined;
    const lengths = [];
    for (const id of parentContent) {
      const rawLength = repo.index.lookup(id)[0]?.rawLength;
      if (rawLength === undefined) return undefined;
      lengths.push(rawLength);
    }
    return new DeltaBases(repo, parentContent, lengths, inFlight);
  }

  /** The choice for the chunk at `start` (of `length` bytes) in the new file; call in chunk order. */
  chunk(start: number, length: number): DeltaChoice {
    const before = this.#turn;
    let done!: () => void;
    this.#turn = new Promise((resolve) => {
      done = resolve;
    });
    let held = 0;
    return {
      choose: async (id, stored) => {
        await before;
        const bases = this.#decide(start, length, id, stored);
        done();
        if (bases.length === 0) return undefined;
        held = bases.reduce((n, b) => n + (this.repo.index.lookup(b)[0]?.rawLength ?? 0), 0);
        await this.inFlight.acquire(held);
        return this.#dictionary(bases);
      },
      settled: (delta) => {
        done();
        this.inFlight.release(held);
        held = 0;
        if (delta !== undefined) this.#misses = delta ? 0 : this.#misses + 1;
      },
    };
  }

  /** Updates the drift and returns the whole blobs a new chunk is tried against (none for a stored one). */
  #decide(start: number, length: number, id: string, stored: boolean): string[] {
    const same = this.#position.get(id);
    if (same !== undefined) {
      this.#drift = start - (this.#starts[same] as number);
      return [];
    }
    if (stored || this.#misses >= MAX_MISSES) return [];
    let expected = start - this.#drift;
    const near = this.#nearestStart(expected);
    if (Math.abs((this.#starts[near] as number) - expected) <= SNAP_BYTES) {
      expected = this.#starts[near] as number;
      this.#drift = start - expected;
    }
    return this.#wholeBases(this.#overlapping(expected, expected + length));
  }

  /** Parent chunks overlapping [from, to), the largest overlaps when there are too many, in file order. */
  #overlapping(from: number, to: number): number[] {
    const spans: Span[] = [];
    for (let i = this.#containing(from); i < this.#starts.length; i++) {
      const s = this.#starts[i] as number;
      if (s >= to) break;
      const overlap = Math.min(to, s + (this.lengths[i] as number)) - Math.max(from, s);
      if (overlap > 0) spans.push({ index: i, overlap });
    }
    spans.sort((a, b) => b.overlap - a.overlap);
    const kept: number[] = [];
    let bytes = 0;
    for (const { index } of spans) {
      const size = this.lengths[index] as number;
      if (kept.length === MAX_DELTA_BASES || bytes + size > MAX_DELTA_DICTIONARY) continue;
      kept.push(index);
      bytes += size;
    }
    return kept.sort((a, b) => a - b);
  }

  /**
   * Each chunk itself when some copy is whole, else the bases of its
   * delta-coded copy: bases are always whole, so no delta is two deep.
   */
  #wholeBases(chunks: readonly number[]): string[] {
    const ids: string[] = [];
    let bytes = 0;
    for (const i of chunks) {
      const id = this.parent[i] as string;
      const locations = this.repo.index.lookup(id);
      const whole = locations.some((l) => l.bases === undefined)
        ? [id]
        : (locations.find((l) => this.repo.index.decodable(l))?.bases ?? []);
      for (const b of whole) {
        const size = this.repo.index.lookup(b)[0]?.rawLength ?? 0;
        if (ids.includes(b) || ids.length === MAX_DELTA_BASES || bytes + size > MAX_DELTA_DICTIONARY)
          continue;
        ids.push(b);
        bytes += size;
      }
    }
    return ids;
  }

  #nearestStart(offset: number): number {
    const at = this.#containing(offset);
    const next = Math.min(at + 1, this.#starts.length - 1);
    const distance = (i: number) => Math.abs((this.#starts[i] as number) - offset);
    return distance(next) < distance(at) ? next : at;
  }

  /** The last parent chunk starting at or before `offset` (the first one before the start). */
  #containing(offset: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The bases' plaintext in a buffer of its own (it moves to a worker); undefined when one cannot be read. */
  async #dictionary(bases: string[]): Promise<DeltaDictionary | undefined> {
    const parts = await Promise.all(bases.map((id) => this.#load(id)));
    if (parts.some((p) => p === undefined)) return undefined;
    const plain = Buffer.allocUnsafeSlow(parts.reduce((n, p) => n + (p as Buffer).length, 0));
    let at = 0;
    for (const p of parts) at += (p as Buffer).copy(plain, at);
    return { bases, plain };
  }

  /** A base blob's plaintext, shared by the chunks that use it; a base that cannot be read only costs the delta. */
  #load(id: string): Promise<Buffer | undefined> {
    const size = this.repo.index.lookup(id)[0]?.rawLength ?? 0;
    return this.#cache.get(id, size, () => this.repo.loadBlob(id, "data").catch(() => undefined));
  }
}
