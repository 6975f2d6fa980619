import type { Backend } from "./backend/backend.js";
import type { MasterKey } from "./crypto/master-key.js";
import { type ConfigFile, readConfig } from "./repo-config.js";
import { openMasterKey, readKeyFiles } from "./repo-keys.js";

/** What a password opens: everything `Repository.unlocked` needs besides the backend. */
export interface UnlockedRepository {
  config: ConfigFile;
  master: MasterKey;
  /** The key file the password opened. */
  keyName: string;
}

/**
 * Reads the config, then finds the key file the password opens. This is the
 * slow part of opening a repository (scrypt, on the thread pool) and needs
 * only a few small modules, so a program can start it before loading the rest.
 */
export async function unlockRepository(backend: Backend, password: string): Promise<UnlockedRepository> {
  return (await startUnlock(backend, password)).unlocked;
}

/**
 * `unlockRepository` in two steps: resolves once the files are read (a few
 * milliseconds) and the key derivation has started, with the promise of its
 * end. The caller can load the rest of the program meanwhile.
 */
export async function startUnlock(
  backend: Backend,
  password: string,
): Promise<{ unlocked: Promise<UnlockedRepository> }> {
  const config = await readConfig(backend);
  const keys = await readKeyFiles(backend);
  const unlocked = openMasterKey(keys, password, backend.location).then((k) => ({ config, ...k }));
  return { unlocked };
}
