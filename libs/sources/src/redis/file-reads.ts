import { open, readFile } from "node:fs/promises";

/** The first bytes of a file (an RDB header), or an empty buffer when it is shorter. */
export async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Opens the file before streaming, so a file renamed over meanwhile (Redis
 * replaces dump.rdb atomically) is still read whole from the version opened.
 */
export async function openStream(path: string): Promise<{ stream: AsyncIterable<Buffer>; bytes: number }> {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  // The stream owns the handle and closes it at its end or on error.
  return { stream: handle.createReadStream(), bytes: size };
}

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** A buffer as the one-chunk stream `Backup.addStream` takes. */
export async function* bytesStream(bytes: Buffer): AsyncGenerator<Buffer> {
  yield bytes;
}
