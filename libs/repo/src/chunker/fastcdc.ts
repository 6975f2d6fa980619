import { createCipheriv } from "node:crypto";
import { RepoError } from "../errors.js";

/** Chunk size limits of a repository (`config.params.chunker`, §6). */
export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** 32 bytes, hex: seeds the secret gear table. */
  gearSeed: string;
}

/** The secret gear table: the AES-256-CTR keystream of the seed, as little-endian uint32. */
export function gearTable(seedHex: string): Uint32Array {
  const seed = Buffer.from(seedHex, "hex");
  if (seed.length !== 32) throw new RepoError("data_corrupt", "chunker gear seed must be 32 bytes");
  const stream = createCipheriv("aes-256-ctr", seed, Buffer.alloc(16)).update(Buffer.alloc(1024));
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) table[i] = stream.readUInt32LE(i * 4);
  return table;
}

/**
 * FastCDC with normalized chunking (level 2) over a 32-bit gear hash. The
 * masks test the hash's top bits, which depend on the last 32 bytes, so the
 * boundary decision looks at a 32-byte window.
 */
export class FastCdc {
  readonly #gear: Uint32Array;
  readonly #min: number;
  readonly #avg: number;
  readonly #max: number;
  readonly #maskHard: number;
  readonly #maskEasy: number;

  constructor(params: ChunkerParams) {
    const bits = Math.round(Math.log2(params.avgSize));
    if (
      !(params.minSize > 0 && params.minSize < params.avgSize && params.avgSize < params.maxSize) ||
      bits < 8
    ) {
      throw new RepoError(
        "invalid_argument",
        "chunker sizes must satisfy 0 < min < avg < max and avg >= 256",
      );
    }
    this.#gear = gearTable(params.gearSeed);
    this.#min = params.minSize;
    this.#avg = params.avgSize;
    this.#max = params.maxSize;
    this.#maskHard = topBits(bits + 2);
    this.#maskEasy = topBits(bits - 2);
  }

  get maxSize(): number {
    return this.#max;
  }

  /** Length of the next chunk of buf[start, end); `end - start` when the data ends first and `final` is set. */
  cut(buf: Uint8Array, start: number, end: number): number {
    let n = end - start;
    if (n <= this.#min) return n;
    if (n > this.#max) n = this.#max;
    const normal = Math.min(n, this.#avg);
    const gear = this.#gear;
    let h = 0;
    let i = this.#min;
    for (; i < normal; i++) {
      h = ((h << 1) + (gear[buf[start + i] as number] as number)) >>> 0;
      if ((h & this.#maskHard) === 0) return i + 1;
    }
    for (; i < n; i++) {
      h = ((h << 1) + (gear[buf[start + i] as number] as number)) >>> 0;
      if ((h & this.#maskEasy) === 0) return i + 1;
    }
    return n;
  }

  /** Splits a byte stream into chunks; each yielded Buffer is owned by the caller. */
  async *chunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const piece of source) {
      pending.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      pendingBytes += piece.byteLength;
      if (pendingBytes < this.#max) continue;
      const work = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
      let pos = 0;
      // Keep at least maxSize unread so every cut sees a full window.
      while (work.length - pos >= this.#max) {
        const len = this.cut(work, pos, work.length);
        yield work.subarray(pos, pos + len);
        pos += len;
      }
      pending = [work.subarray(pos)];
      pendingBytes = work.length - pos;
    }
    if (pendingBytes === 0) return;
    const work = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    let pos = 0;
    while (pos < work.length) {
      const len = this.cut(work, pos, work.length);
      yield work.subarray(pos, pos + len);
      pos += len;
    }
  }
}

function topBits(n: number): number {
  return n >= 32 ? 0xffffffff : (((0xffffffff << (32 - n)) >>> 0) as number);
}
