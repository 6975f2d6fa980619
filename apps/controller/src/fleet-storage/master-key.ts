import { createHash, randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";

/** The controller's key for secrets it keeps in the catalog (repository passwords). */
export interface MasterKey {
  /** Names the key without revealing it; stored next to each ciphertext. */
  id: string;
  key: Buffer;
}

export class MasterKeyError extends Error {
  readonly code = "master_key_invalid";
  constructor(path: string, problem = "is not a controller master key (base64 of 32 bytes)") {
    super(
      `${path} ${problem}; restore it from your backup of the data dir — without it the repository passwords in the catalog cannot be decrypted`,
    );
    this.name = "MasterKeyError";
  }
}

const KEY_BYTES = 32;

export const masterKeyPath = (dataDir: string) => join(dataDir, "secrets", "master.key");

/**
 * Loads `<dataDir>/secrets/master.key`, creating it (0600) on first start.
 * Kept out of the catalog on purpose: a catalog dump or a PostgreSQL backup
 * then holds only ciphertexts.
 */
export async function loadOrCreateMasterKey(dataDir: string): Promise<MasterKey> {
  const path = masterKeyPath(dataDir);
  await mkdir(join(dataDir, "secrets"), { recursive: true, mode: 0o700 });
  const existing = await readKeyFile(path);
  if (existing) return existing;
  await createKeyFile(path);
  const created = await readKeyFile(path);
  if (!created) throw new MasterKeyError(path);
  return created;
}

/** Loads an existing master key; a missing one is an error, never replaced by a new key. */
export async function loadMasterKey(dataDir: string): Promise<MasterKey> {
  const path = masterKeyPath(dataDir);
  const key = await readKeyFile(path);
  if (!key) {
    throw new MasterKeyError(path, "is missing");
  }
  return key;
}

async function readKeyFile(path: string): Promise<MasterKey | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  const key = Buffer.from(text.trim(), "base64");
  if (key.length !== KEY_BYTES) throw new MasterKeyError(path);
  return { id: keyIdOf(key), key };
}

/**
 * Written to a temp file, synced, then hard-linked into place: unlike rename,
 * link never replaces a key another process created meanwhile (two
 * controllers starting on one data dir), which would orphan its ciphertexts.
 */
async function createKeyFile(path: string): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const file = await open(temp, "wx", 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(`${randomBytes(KEY_BYTES).toString("base64")}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

function keyIdOf(key: Buffer): string {
  return `mk-${createHash("sha256").update(key).digest("hex").slice(0, 16)}`;
}
