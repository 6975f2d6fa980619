import { readFile } from "node:fs/promises";
import { RepoError } from "@pwdr/repo";

/**
 * Reads a password named by a definition at the moment it is needed. Errors
 * name the file or variable, never a value.
 */
export async function resolveSecret(
  ref: { passwordFile?: string | undefined; passwordEnv?: string | undefined },
  what: string,
): Promise<string | undefined> {
  if (ref.passwordFile) {
    try {
      return (await readFile(ref.passwordFile, "utf8")).replace(/\r?\n$/, "");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
      throw new RepoError(
        "invalid_argument",
        `cannot read the password file of ${what}, ${ref.passwordFile} (${code})`,
      );
    }
  }
  if (ref.passwordEnv) {
    const value = process.env[ref.passwordEnv];
    if (value === undefined) {
      throw new RepoError(
        "invalid_argument",
        `the password of ${what} is to come from $${ref.passwordEnv}, which is not set`,
      );
    }
    return value;
  }
  return undefined;
}
