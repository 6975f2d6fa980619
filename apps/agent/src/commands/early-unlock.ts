import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LocalBackend, startUnlock, type UnlockedRepository } from "@pwdr/repo/unlock";

interface EarlyUnlock {
  location: string;
  password: string;
  unlocked: Promise<UnlockedRepository>;
}

let early: EarlyUnlock | undefined;

/**
 * A repository command spends most of its start in two things that need not
 * wait for each other: deriving the key from the password (scrypt, ~80 ms on
 * the thread pool) and loading the program (~70 ms on the main thread).
 * main.ts calls this before loading the CLI: when the command line or the
 * environment names a repository and a password, it reads the repository's
 * config and key files and starts the derivation, then returns.
 * `openRepository` takes the result only for the same repository and
 * password, so a misread command line costs a wasted derivation, never a
 * wrong key; an error is reported by `openRepository` as if it had unlocked
 * itself.
 */
export async function startEarlyUnlock(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: { repo: { type: "string", short: "r" }, "password-file": { type: "string" } },
    strict: false,
    allowPositionals: true,
  });
  const location = stringOr(values.repo, env.PWDR_REPOSITORY);
  const passwordFile = stringOr(values["password-file"], env.PWDR_PASSWORD_FILE);
  const password = passwordFile ? readPasswordFile(passwordFile) : env.PWDR_PASSWORD;
  if (!location || !password) return;
  const backend = new LocalBackend(location);
  const started = startUnlock(backend, password);
  const unlocked = started.then((s) => s.unlocked);
  unlocked.catch(() => {});
  early = { location: backend.root, password, unlocked };
  // The files are read while nothing else keeps the main thread busy; the
  // derivation then runs on the thread pool while the CLI loads.
  await started.catch(() => {});
}

/** The early unlock of exactly this repository (its resolved root) and password, once. */
export function takeEarlyUnlock(root: string, password: string): Promise<UnlockedRepository> | undefined {
  const taken = early;
  early = undefined;
  return taken && taken.location === root && taken.password === password ? taken.unlocked : undefined;
}

function stringOr(value: unknown, fallback: string | undefined): string | undefined {
  return typeof value === "string" ? value : fallback;
}

/** A password file's password: its text without the one line ending an editor adds. */
export function passwordFromFile(text: string): string {
  return text.replace(/\r?\n$/, "");
}

function readPasswordFile(path: string): string | undefined {
  try {
    return passwordFromFile(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}
