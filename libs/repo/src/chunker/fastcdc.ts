import { ChunkStream, Cutter } from "../../worker/fastcdc.mjs";
import { RepoError } from "../errors.js";

/** Chunk size limits of a repository (`config.params.chunker`, §6). */
export interface ChunkerParams {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** 32 bytes, hex: seeds the secret gear table. */
  gearSeed: string;
}

/** Refuses parameters FastCDC cannot work with, naming what is wrong. */
export function validateChunkerParams(params: ChunkerParams): void {
  const bits = Math.round(Math.log2(params.avgSize));
  if (
    !(params.minSize > 0 && params.minSize < params.avgSize && params.avgSize < params.maxSize) ||
    bits < 8
  ) {
    throw new RepoError("invalid_argument", "chunker sizes must satisfy 0 < min < avg < max and avg >= 256");
  }
  if (!/^[0-9a-f]{64}$/.test(params.gearSeed))
    throw new RepoError("data_corrupt", "chunker gear seed must be 32 bytes");
}

/**
 * FastCDC (worker/fastcdc.mjs, shared with the worker threads that chunk
 * during backups): boundaries depend on content only, so an insertion moves
 * just the chunks around it.
 */
export class FastCdc {
  readonly #cutter: Cutter;

  constructor(params: ChunkerParams) {
    validateChunkerParams(params);
    this.#cutter = new Cutter(params);
  }

  /** Length of the next chunk of buf[start, end). */
  cut(buf: Uint8Array, start: number, end: number): number {
    return this.#cutter.cut(buf, start, end);
  }

  /**
   * Splits a byte stream into chunks, each in a buffer of its own. The
   * source may reuse a buffer it yielded once the next one is asked for.
   */
  async *chunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    const stream = new ChunkStream(this.#cutter);
    try {
      for await (const piece of source)
        yield* stream.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      yield* stream.end();
    } finally {
      stream.close();
    }
  }
}
