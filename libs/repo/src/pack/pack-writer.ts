import { createHash } from "node:crypto";
import type { BackendWriter } from "../backend/backend.js";
import { sealParts } from "../crypto/envelope.js";
import { encodeEntries, HEADER_AAD, type PackEntry } from "./pack-format.js";

/** A pack that was written and fsync'ed, with the blobs it holds. */
export interface WrittenPack {
  id: string;
  size: number;
  entries: PackEntry[];
}

/**
 * Collects encrypted blob envelopes in memory until the pack reaches its
 * target size, then writes pack + header in one atomic save (§7, §8).
 */
export class PackWriter {
  #parts: Buffer[] = [];
  #entries: PackEntry[] = [];
  #size = 0;

  constructor(private readonly encKey: Uint8Array) {}

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.#entries.length;
  }

  /** Appends one blob envelope (given as pieces) and records where it lies. */
  add(entry: Omit<PackEntry, "offset" | "length">, envelope: readonly Buffer[]): void {
    let length = 0;
    for (const p of envelope) length += p.length;
    this.#entries.push({ ...entry, offset: this.#size, length });
    this.#parts.push(...envelope);
    this.#size += length;
  }

  /** Seals the header, names the pack by the SHA-256 of its bytes and saves it. */
  async write(backend: BackendWriter): Promise<WrittenPack> {
    const header = sealParts(this.encKey, [encodeEntries(this.#entries)], HEADER_AAD);
    const headerLength = header.reduce((n, p) => n + p.length, 0);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(headerLength, 0);
    const parts = [...this.#parts, ...header, tail];
    const hash = createHash("sha256");
    for (const p of parts) hash.update(p);
    const id = hash.digest("hex");
    await backend.save({ type: "data", name: id }, parts);
    const written = { id, size: this.#size + headerLength + 4, entries: this.#entries };
    this.#parts = [];
    this.#entries = [];
    this.#size = 0;
    return written;
  }
}
