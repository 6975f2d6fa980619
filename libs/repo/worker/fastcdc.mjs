// FastCDC content-defined chunking (docs/repository-format.md §6), in plain
// JavaScript so the blob worker threads (blob-worker.mjs) and the TypeScript
// library (src/chunker/fastcdc.ts) run the same code from src/ and dist/.
import { createCipheriv } from "node:crypto";

/** The secret gear table: the AES-256-CTR keystream of the 32-byte seed, read as little-endian 32-bit words. */
export function gearTable(seedHex) {
  const seed = Buffer.from(seedHex, "hex");
  if (seed.length !== 32) throw new Error("chunker gear seed must be 32 bytes");
  const stream = createCipheriv("aes-256-ctr", seed, Buffer.alloc(16)).update(Buffer.alloc(1024));
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) table[i] = stream.readInt32LE(i * 4);
  return table;
}

/** A mask of the top n bits, as an int32 (the same bits, so `h & mask` is unchanged). */
function topBits(n) {
  return n >= 32 ? -1 : (0xffffffff << (32 - n)) | 0;
}

/**
 * FastCDC with normalized chunking (level 2) over a 32-bit gear hash. The
 * masks test the hash's top bits, which depend on the last 32 bytes, so the
 * boundary decision looks at a 32-byte window. Sizes are checked by the caller.
 */
export class Cutter {
  constructor({ minSize, avgSize, maxSize, gearSeed }) {
    const bits = Math.round(Math.log2(avgSize));
    this.gear = gearTable(gearSeed);
    this.min = minSize;
    this.avg = avgSize;
    this.max = maxSize;
    this.hard = topBits(bits + 2);
    this.easy = topBits(bits - 2);
  }

  /** Length of the next chunk of buf[start, end); all of it when shorter than the minimum. */
  cut(buf, start, end) {
    let n = end - start;
    if (n <= this.min) return n;
    if (n > this.max) n = this.max;
    const normal = Math.min(n, this.avg);
    // Locals and int32 arithmetic (no values V8 would box as doubles): this
    // is the hottest loop of a backup.
    const gear = this.gear;
    const hard = this.hard;
    const easy = this.easy;
    let h = 0;
    let i = this.min;
    for (; i < normal; i++) {
      h = ((h << 1) + gear[buf[start + i]]) | 0;
      if ((h & hard) === 0) return i + 1;
    }
    for (; i < n; i++) {
      h = ((h << 1) + gear[buf[start + i]]) | 0;
      if ((h & easy) === 0) return i + 1;
    }
    return n;
  }
}

/**
 * Turns pushed buffers into chunks. Until the stream ends it keeps at least
 * maxSize bytes unread, so every cut sees a full window; pushed buffers must
 * not be modified afterwards (chunks may be views of them).
 */
export class ChunkStream {
  constructor(cutter) {
    this.cutter = cutter;
    this.pending = [];
    this.pendingBytes = 0;
  }

  push(buf) {
    this.pending.push(buf);
    this.pendingBytes += buf.length;
    return this.pendingBytes < this.cutter.max ? [] : this.#drain(false);
  }

  end() {
    return this.pendingBytes === 0 ? [] : this.#drain(true);
  }

  #drain(final) {
    const work = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const chunks = [];
    let pos = 0;
    while (final ? pos < work.length : work.length - pos >= this.cutter.max) {
      const len = this.cutter.cut(work, pos, work.length);
      chunks.push(work.subarray(pos, pos + len));
      pos += len;
    }
    this.pending = pos < work.length ? [work.subarray(pos)] : [];
    this.pendingBytes = work.length - pos;
    return chunks;
  }
}
