// FastCDC content-defined chunking (docs/repository-format.md §6), in plain
// JavaScript so the blob worker threads (blob-worker.mjs) and the TypeScript
// library (src/chunker/fastcdc.ts) run the same code from src/ and dist/.
import { createCipheriv } from "node:crypto";
import { release } from "./release.mjs";

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
 * Turns pushed buffers into chunks, cutting exactly where `Cutter.cut` would
 * on the whole stream. The gear hash is carried across pushes, so nothing is
 * scanned twice. Each chunk is copied once into a buffer of its own (it can
 * be moved to a worker thread); the start of an unfinished chunk is copied
 * into a window, so a pushed buffer is not referenced after `push` returns
 * and the source may reuse it. The window is freed at the end (`end` or
 * `close`), not left to the garbage collector (release.mjs says why).
 */
export class ChunkStream {
  constructor(cutter) {
    this.cutter = cutter;
    /** The open chunk's bytes from earlier pushes: window[0, size). */
    this.window = undefined;
    this.size = 0;
    this.hash = 0;
  }

  push(buf) {
    const chunks = [];
    let start = 0;
    while (start < buf.length) {
      const end = this.#scan(buf, start);
      if (end < 0) {
        this.#keep(buf, start);
        break;
      }
      chunks.push(this.#take(buf, start, end));
      start = end;
    }
    return chunks;
  }

  end() {
    const last = this.size === 0 ? [] : [this.#take(undefined, 0, 0)];
    this.#release();
    return last;
  }

  /** Frees the window; call when abandoning a stream before its end. */
  close() {
    this.#release();
  }

  /**
   * Continues the open chunk over buf[start..]: the index in `buf` where it
   * ends, or -1 when it does not end in this buffer. Mirrors Cutter.cut: the
   * first `min` bytes are skipped, the hard mask applies below `avg`, the
   * easy one up to `max`.
   */
  #scan(buf, start) {
    const { gear, hard, easy, min, avg, max } = this.cutter;
    const len = buf.length;
    let i = this.size;
    let p = start;
    if (i < min) {
      const skip = Math.min(min - i, len - p);
      p += skip;
      i += skip;
      if (i < min) return -1;
    }
    let h = this.hash;
    for (const end = Math.min(len, p + (avg - i)); p < end; i++) {
      h = ((h << 1) + gear[buf[p++]]) | 0;
      if ((h & hard) === 0) return p;
    }
    for (const end = Math.min(len, p + (max - i)); p < end; i++) {
      h = ((h << 1) + gear[buf[p++]]) | 0;
      if ((h & easy) === 0) return p;
    }
    this.hash = h;
    return i >= max ? p : -1;
  }

  /** Copies buf[start..] after the open chunk's bytes; the hash state is already saved. */
  #keep(buf, start) {
    const n = buf.length - start;
    if (!this.window || this.window.length < this.size + n) this.#grow(this.size + n);
    buf.copy(this.window, this.size, start);
    this.size += n;
  }

  /** Doubles the window: a short stream keeps a small one. */
  #grow(need) {
    const size = Math.min(this.cutter.max, Math.max(need, (this.window?.length ?? 0) * 2, 64 * 1024));
    const bigger = Buffer.allocUnsafeSlow(size);
    if (this.window) {
      this.window.copy(bigger, 0, 0, this.size);
      release([this.window]);
    }
    this.window = bigger;
  }

  /** The open chunk (window) plus buf[start, end), as a new buffer; the next chunk starts empty. */
  #take(buf, start, end) {
    const chunk = Buffer.allocUnsafeSlow(this.size + (end - start));
    if (this.size > 0) this.window.copy(chunk, 0, 0, this.size);
    if (buf) buf.copy(chunk, this.size, start, end);
    this.size = 0;
    this.hash = 0;
    return chunk;
  }

  #release() {
    if (this.window) release([this.window]);
    this.window = undefined;
    this.size = 0;
  }
}
