import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes a private key so that readers see either the old file or the complete new one, never a
 * partial key, and so that it is readable by the owner only from the first byte on.
 */
export function writePrivateKeyFile(path: string, pem: string): Promise<void> {
  return writeFileAtomic(path, pem, 0o600);
}

/** Replaces a file durably and atomically (temp file, fsync, rename, directory fsync) with exactly `mode`. */
export async function writeFileAtomic(path: string, content: string, mode: number): Promise<void> {
  const tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeSynced(tempPath, content, mode);
    await rename(tempPath, path);
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  await syncDirectory(dirname(path));
}

async function writeSynced(path: string, content: string, mode: number): Promise<void> {
  const file = await open(path, "wx", mode);
  try {
    // The mode given to open() is filtered by the umask; chmod makes it exact.
    await file.chmod(mode);
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The rename is durable only once the directory entry itself is flushed. */
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
