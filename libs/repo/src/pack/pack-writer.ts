import { createHash, type Hash } from "node:crypto";
import { release } from "../../worker/release.mjs";
import type { BackendWriter, StagedFile } from "../backend/backend.js";
import { sealParts } from "../crypto/envelope.js";
import { encodeEntries, HEADER_AAD, type PackEntry } from "./pack-format.js";

/** A pack that was written and fsync'ed, with the blobs it holds. */
export interface WrittenPack {
  id: string;
  size: number;
  entries: PackEntry[];
}

/**
 * Assembles one pack (§7, §8): blob envelopes, then the sealed header, named
 * by the SHA-256 of all its bytes. On a backend that stages files the
 * envelopes go to disk as they arrive, so a pack being filled costs no
 * memory; otherwise they are collected and saved in one atomic `save`.
 */
export class PackWriter {
  #parts: Buffer[] = [];
  #entries: PackEntry[] = [];
  #size = 0;
  readonly #hash: Hash = createHash("sha256");
  /** The pack's staged file, opened by the first envelope when the backend stages. */
  #staged: Promise<StagedFile> | undefined;
  /** Envelopes waiting for the append in progress; appended together next. */
  #queued: Buffer[] = [];
  #appending: Promise<void> | undefined;

  constructor(
    private readonly encKey: Uint8Array,
    private readonly backend: BackendWriter,
  ) {}

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#entries.length;
  }

  /**
   * Appends one blob envelope (given as pieces) and records where it lies;
   * resolves once a staged pack has it on disk, so callers that wait for
   * it bound the bytes in memory.
   */
  add(entry: Omit<PackEntry, "offset" | "length">, envelope: readonly Buffer[]): Promise<void> {
    let length = 0;
    for (const p of envelope) length += p.length;
    // A literal, not a spread: V8 gives each object built by spread a hidden
    // class of its own, ~200 bytes per blob for as long as the index lives.
    this.#entries.push({
      type: entry.type,
      id: entry.id,
      offset: this.#size,
      length,
      rawLength: entry.rawLength,
      bases: entry.bases,
    });
    this.#size += length;
    for (const p of envelope) this.#hash.update(p);
    if (!this.#staged && this.backend.stage) {
      this.#staged = this.backend.stage("data");
      // A failure is seen by the add or write that waits for the append.
      this.#staged.catch(() => {});
    }
    if (!this.#staged) {
      this.#parts.push(...envelope);
      return Promise.resolve();
    }
    this.#queued.push(...envelope);
    return this.#drain();
  }

  /** Seals the header, names the pack by the SHA-256 of its bytes and saves it. */
  async write(): Promise<WrittenPack> {
    const header = sealParts(this.encKey, [encodeEntries(this.#entries)], HEADER_AAD);
    const headerLength = header.reduce((n, p) => n + p.length, 0);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(headerLength, 0);
    const trailer = [...header, tail];
    for (const p of trailer) this.#hash.update(p);
    const id = this.#hash.digest("hex");
    if (this.#staged) {
      this.#queued.push(...trailer);
      await this.#drain();
      await (await this.#staged).commit(id);
    } else {
      await this.backend.save({ type: "data", name: id }, [...this.#parts, ...trailer]);
      this.#parts = [];
    }
    return { id, size: this.#size + headerLength + 4, entries: this.#entries };
  }

  /** Gives up on a staged pack: its temporary file is removed. */
  async discard(): Promise<void> {
    this.#queued = [];
    await this.#appending?.catch(() => {});
    await (await this.#staged?.catch(() => undefined))?.discard();
  }

  /**
   * Appends whatever is queued once the append before it is done: envelopes
   * that arrive meanwhile go in the same write, so many small blobs cost
   * few system calls. Resolves when what is queued now is on disk.
   */
  #drain(): Promise<void> {
    const previous = this.#appending ?? Promise.resolve();
    const next = previous.then(async () => {
      const parts = this.#queued;
      this.#queued = [];
      if (parts.length === 0) return;
      await (await (this.#staged as Promise<StagedFile>)).append(parts);
      // The pack owns its envelopes; on disk they are dead weight.
      release(parts);
    });
    this.#appending = next;
    return next;
  }
}
