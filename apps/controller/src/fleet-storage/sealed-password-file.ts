import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { SealedPassword } from "./sealed-password.js";

/**
 * A copy of a repository's sealed password beside the repositories, in
 * `<dataDir>/secrets/repositories/<name>.sealed`, so the passwords survive the
 * loss of the catalog database (`catalog rebuild` reads them back). It is the
 * same ciphertext the catalog holds: useless without `secrets/master.key`.
 */
export interface SealedPasswordFile extends SealedPassword {
  repository: string;
}

const FORMAT = 1;
const SUFFIX = ".sealed";
// Host repositories are named by host id; anything else has no business in a file name.
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export const sealedPasswordDir = (dataDir: string) => join(dataDir, "secrets", "repositories");

export class SealedPasswordFileError extends Error {
  readonly code = "sealed_password_file_invalid";
}

/** Writes the copy atomically (temp file, fsync, rename), mode 0600; unchanged content is left alone. */
export async function writeSealedPasswordFile(dataDir: string, sealed: SealedPasswordFile): Promise<void> {
  if (!SAFE_NAME.test(sealed.repository)) {
    throw new SealedPasswordFileError(`repository name "${sealed.repository}" cannot name a file`);
  }
  const dir = sealedPasswordDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${sealed.repository}${SUFFIX}`);
  const text = `${JSON.stringify({
    format: FORMAT,
    repository: sealed.repository,
    keyId: sealed.keyId,
    ciphertext: Buffer.from(sealed.ciphertext).toString("base64"),
  })}\n`;
  if ((await readFile(path, "utf8").catch(() => "")) === text) return;
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temp, "wx", 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Every sealed copy in the data dir, by repository name. */
export async function readSealedPasswordFiles(dataDir: string): Promise<Map<string, SealedPasswordFile>> {
  const dir = sealedPasswordDir(dataDir);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw err;
  });
  const files = new Map<string, SealedPasswordFile>();
  for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
    const sealed = parse(join(dir, name), await readFile(join(dir, name), "utf8"));
    files.set(sealed.repository, sealed);
  }
  return files;
}

function parse(path: string, text: string): SealedPasswordFile {
  try {
    const data = JSON.parse(text) as {
      format?: number;
      repository?: unknown;
      keyId?: unknown;
      ciphertext?: unknown;
    };
    if (
      data.format === FORMAT &&
      typeof data.repository === "string" &&
      typeof data.keyId === "string" &&
      typeof data.ciphertext === "string"
    ) {
      return {
        repository: data.repository,
        keyId: data.keyId,
        ciphertext: new Uint8Array(Buffer.from(data.ciphertext, "base64")),
      };
    }
  } catch {
    // reported below
  }
  throw new SealedPasswordFileError(`${path} is not a sealed repository password (format ${FORMAT})`);
}
