import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";
import { release } from "../../worker/release.mjs";
import type { FastCdc } from "../chunker/fastcdc.js";
import type { WriteSession } from "../write-session.js";
import type { DeltaBases } from "./delta-bases.js";
import { Budget } from "./limiter.js";

const READ_SIZE = 4 * 1024 * 1024;
/** Chunk bytes handed to the encoder and not yet stored, over all files: bounds memory. */
export const IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export interface SavedContent {
  content: string[];
  size: number;
}

/**
 * Reads a file through one buffer, sized by what lstat said so a small file
 * costs a small one, and freed at the end (worker/release.mjs says why);
 * each yielded view is valid until the next is asked for (the chunker
 * copies what it keeps). A file that grows while being read is read to its end.
 */
export async function* readFileChunks(path: Buffer | string, expectedSize: number): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  let buf = Buffer.allocUnsafeSlow(Math.min(READ_SIZE, Math.max(1, expectedSize)));
  try {
    let left = expectedSize;
    for (;;) {
      // Once the expected bytes are read, a one-byte probe tells EOF from growth.
      const want = left > 0 ? Math.min(READ_SIZE, left) : 1;
      if (want > buf.length) {
        release([buf]);
        buf = Buffer.allocUnsafeSlow(READ_SIZE);
      }
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) return;
      left = left > 0 ? left - bytesRead : READ_SIZE;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    release([buf]);
    await fh.close();
  }
}

/** The whole content of a small file, or undefined when it turned out larger than `size` (it grew). */
export function readSmallFile(path: Buffer | string, size: number): Buffer | undefined {
  const fd = openSync(path, "r");
  try {
    // Exactly `size` bytes in a buffer of its own, so it can be moved to a
    // worker without a copy; a one-byte probe tells EOF from growth.
    const buf = Buffer.allocUnsafeSlow(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, null);
      if (n === 0) return buf.subarray(0, got);
      got += n;
    }
    return readSync(fd, PROBE, 0, 1, null) === 0 ? buf : undefined;
  } finally {
    closeSync(fd);
  }
}

const PROBE = Buffer.alloc(1);

/** Cuts byte streams into chunks and stores them as data blobs, returning the ordered blob ids. */
export class ContentSaver {
  constructor(
    private readonly session: WriteSession,
    private readonly chunker: FastCdc,
    private readonly onBytes: (read: number, added: number) => void,
    private readonly smallFileLimit: number,
    private readonly budget = new Budget(IN_FLIGHT_BYTES),
  ) {}

  /**
   * Chunks run ahead of storage within the shared byte budget, keeping the
   * encoder workers busy while this thread reads and cuts the next chunks.
   */
  async saveStream(source: AsyncIterable<Uint8Array>, bases?: DeltaBases): Promise<SavedContent> {
    const saves: Promise<string>[] = [];
    let size = 0;
    for await (const chunk of this.chunker.chunks(source)) {
      // The chunk is moved to a worker: only its length is used afterwards.
      const length = chunk.length;
      const choice = bases?.chunk(size, length);
      size += length;
      await this.budget.acquire(length);
      const save = this.session.saveDataBlob(chunk, choice).then(
        ({ id, added, delta }) => {
          this.budget.release(length);
          choice?.settled(delta);
          this.onBytes(length, added);
          return id;
        },
        (err: unknown) => {
          this.budget.release(length);
          choice?.settled(undefined);
          throw err;
        },
      );
      // Attach a handler now; the error is rethrown by Promise.all below.
      save.catch(() => {});
      saves.push(save);
    }
    return { content: await Promise.all(saves), size };
  }

  /**
   * A file smaller than the minimum chunk is one blob: it is read with
   * direct system calls and stored without the chunker. Larger files, and a
   * small one that grew while being read, go through the stream path,
   * delta-coded against `bases` where that pays (§5.1).
   */
  async saveFile(path: Buffer | string, expectedSize: number, bases?: DeltaBases): Promise<SavedContent> {
    if (expectedSize < this.smallFileLimit) {
      const data = readSmallFile(path, expectedSize);
      if (data?.length === 0) return { content: [], size: 0 };
      if (data) {
        const length = data.length;
        const { id, added } = await this.session.saveSmallBlob(data);
        this.onBytes(length, added);
        return { content: [id], size: length };
      }
    }
    return this.saveStream(readFileChunks(path, expectedSize), bases);
  }
}
