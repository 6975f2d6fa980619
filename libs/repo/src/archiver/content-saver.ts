import { open } from "node:fs/promises";
import type { FastCdc } from "../chunker/fastcdc.js";
import type { WriteSession } from "../write-session.js";
import { Budget } from "./limiter.js";

const READ_SIZE = 4 * 1024 * 1024;
/** Chunk bytes handed to the encoder and not yet stored, over all files: bounds memory. */
export const IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export interface SavedContent {
  content: string[];
  size: number;
}

/**
 * Reads a file into fresh buffers (the chunker keeps references to them),
 * sized by what lstat said is left so small files cost one small allocation.
 * A file that grows while being read is read to its end.
 */
export async function* readFileChunks(path: Buffer | string, expectedSize: number): AsyncGenerator<Buffer> {
  const fh = await open(path, "r");
  try {
    let left = expectedSize;
    for (;;) {
      // Once the expected bytes are read, a one-byte probe tells EOF from growth.
      const want = left > 0 ? Math.min(READ_SIZE, left) : 1;
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) return;
      left = left > 0 ? left - bytesRead : READ_SIZE;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Cuts byte streams into chunks and stores them as data blobs, returning the ordered blob ids. */
export class ContentSaver {
  constructor(
    private readonly session: WriteSession,
    private readonly chunker: FastCdc,
    private readonly onBytes: (read: number, added: number) => void,
    private readonly budget = new Budget(IN_FLIGHT_BYTES),
  ) {}

  /**
   * Chunks run ahead of storage within the shared byte budget, keeping the
   * encoder workers busy while this thread reads and cuts the next chunks.
   */
  async saveStream(source: AsyncIterable<Uint8Array>): Promise<SavedContent> {
    const saves: Promise<string>[] = [];
    let size = 0;
    for await (const chunk of this.chunker.chunks(source)) {
      size += chunk.length;
      await this.budget.acquire(chunk.length);
      const save = this.session.saveDataBlob(chunk).then(
        ({ id, added }) => {
          this.budget.release(chunk.length);
          this.onBytes(chunk.length, added);
          return id;
        },
        (err: unknown) => {
          this.budget.release(chunk.length);
          throw err;
        },
      );
      // Attach a handler now; the error is rethrown by Promise.all below.
      save.catch(() => {});
      saves.push(save);
    }
    return { content: await Promise.all(saves), size };
  }

  saveFile(path: Buffer | string, expectedSize: number): Promise<SavedContent> {
    return this.saveStream(readFileChunks(path, expectedSize));
  }
}
