/** Reads exact byte counts from a stream of chunks of any size. */
export class ByteReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #buffered: Buffer[] = [];
  #length = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly `n` bytes; undefined only when the stream ends before the first of them. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.#length < n) {
      const next = await this.#iterator.next();
      if (next.done) break;
      this.#buffered.push(Buffer.from(next.value));
      this.#length += next.value.length;
    }
    if (this.#length === 0 && n > 0) return undefined;
    if (this.#length < n) throw new Error(`it ends ${n - this.#length} bytes early (truncated)`);
    const all = this.#buffered.length === 1 ? (this.#buffered[0] as Buffer) : Buffer.concat(this.#buffered);
    this.#buffered = all.length > n ? [all.subarray(n)] : [];
    this.#length = all.length - n;
    return all.subarray(0, n);
  }
}
