import { readFile } from "node:fs/promises";
import { LocalBackend, RepoError, Repository } from "@pwdr/repo";
import { type Command, Option } from "commander";
import { passwordFromFile, takeEarlyUnlock } from "./early-unlock.js";

/** Options every repository command takes; environment variables fill what flags leave out. */
export interface RepoOptions {
  repo?: string;
  passwordFile?: string;
  json?: boolean;
}

export function withRepoOptions(command: Command): Command {
  return command
    .addOption(new Option("-r, --repo <path>", "repository location").env("PWDR_REPOSITORY"))
    .addOption(
      new Option("--password-file <file>", "read the repository password from a file").env(
        "PWDR_PASSWORD_FILE",
      ),
    )
    .option("--json", "machine-readable output on stdout");
}

/** The password comes from a file or PWDR_PASSWORD, never from a flag (flags show up in `ps`). */
export async function readPassword(opts: RepoOptions): Promise<string> {
  if (opts.passwordFile) {
    const text = await readFile(opts.passwordFile, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new RepoError(
        "invalid_argument",
        `cannot read the password file ${opts.passwordFile}: ${err.code ?? err.message}`,
      );
    });
    return passwordFromFile(text);
  }
  const env = process.env.PWDR_PASSWORD;
  if (env) return env;
  throw new RepoError(
    "invalid_argument",
    "no repository password: pass --password-file <file> or set PWDR_PASSWORD",
  );
}

export function backendFor(opts: RepoOptions): LocalBackend {
  if (!opts.repo)
    throw new RepoError("invalid_argument", "no repository given: pass --repo <path> or set PWDR_REPOSITORY");
  return new LocalBackend(opts.repo);
}

export async function openRepository(opts: RepoOptions): Promise<Repository> {
  const backend = backendFor(opts);
  const password = await readPassword(opts);
  const unlocked = takeEarlyUnlock(backend.root, password);
  return unlocked ? Repository.unlocked(backend, await unlocked) : Repository.open(backend, password);
}
