import { randomBytes } from "node:crypto";
import type { Backend } from "./backend/backend.js";
import { type KdfParams, type KeyFile, unwrapMasterKey, wrapMasterKey } from "./crypto/key-file.js";
import type { MasterKey } from "./crypto/master-key.js";
import { RepoError } from "./errors.js";

export interface KeyInfo {
  name: string;
  createdAt: string;
  host: string;
  user: string;
}

async function readKey(backend: Backend, name: string): Promise<KeyFile> {
  const raw = await backend.load({ type: "keys", name });
  try {
    return JSON.parse(raw.toString("utf8")) as KeyFile;
  } catch (err) {
    throw new RepoError("data_corrupt", `key file ${name.slice(0, 12)} is not valid JSON`, { cause: err });
  }
}

export async function listKeys(backend: Backend): Promise<KeyInfo[]> {
  const keys: KeyInfo[] = [];
  for await (const f of backend.list("keys")) {
    const k = await readKey(backend, f.name);
    keys.push({ name: f.name, createdAt: k.createdAt, host: k.host, user: k.user });
  }
  return keys.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

/** A key file as read: its content, or why it could not be read (reported if the unlock reaches it). */
export type ReadKeyFile = { name: string; file: KeyFile } | { name: string; error: unknown };

export async function readKeyFiles(backend: Backend): Promise<ReadKeyFile[]> {
  const keys: ReadKeyFile[] = [];
  for await (const f of backend.list("keys")) {
    keys.push(
      await readKey(backend, f.name).then(
        (file) => ({ name: f.name, file }),
        (error: unknown) => ({ name: f.name, error }),
      ),
    );
  }
  return keys;
}

/**
 * Finds the key file the password opens (wrong_password when none does),
 * trying each in turn; an unreadable one fails the unlock when reached. The
 * first key derivation starts before this returns, so a caller can go on
 * while it runs.
 */
export async function openMasterKey(
  keys: readonly ReadKeyFile[],
  password: string,
  location: string,
): Promise<{ master: MasterKey; keyName: string }> {
  for (const k of keys) {
    if ("error" in k) throw k.error;
    const master = await unwrapMasterKey(k.file, password);
    if (master) return { master, keyName: k.name };
  }
  throw new RepoError("wrong_password", `the password does not open the repository at ${location}`);
}

export async function addKey(
  backend: Backend,
  master: MasterKey,
  password: string,
  kdf?: KdfParams,
): Promise<string> {
  if (!password) throw new RepoError("invalid_argument", "an empty password is not allowed");
  const name = randomBytes(32).toString("hex");
  const file = await wrapMasterKey(master, password, kdf);
  await backend.save({ type: "keys", name }, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
  return name;
}

/** Removes a key file; refuses to remove the last one, which would lock everyone out. */
export async function removeKey(backend: Backend, name: string): Promise<void> {
  const keys = await listKeys(backend);
  if (!keys.some((k) => k.name === name)) throw new RepoError("invalid_argument", `no key named ${name}`);
  if (keys.length === 1) throw new RepoError("last_key", "refusing to remove the repository's only key");
  await backend.remove({ type: "keys", name });
}
