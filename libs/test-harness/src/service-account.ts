import { execFileSync } from "node:child_process";
import { chownSync } from "node:fs";
import { UserNotFoundError } from "./errors.js";

/** The OS user a server runs as when tests run as root, which PostgreSQL refuses to run as. */
export interface ServiceAccount {
  user: string;
  uid: number;
  gid: number;
}

/** `null` when not root: servers then simply run as the current user. */
export function serviceAccountFor(user: string, hint: string): ServiceAccount | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, user], { encoding: "utf8", stdio: "pipe" }).trim());
    return { user, uid: id("-u"), gid: id("-g") };
  } catch {
    throw new UserNotFoundError(user, hint);
  }
}

export function giveTo(account: ServiceAccount | null, ...paths: string[]): void {
  if (account) for (const path of paths) chownSync(path, account.uid, account.gid);
}

/** The argv that runs `file args` as `account`, or as is when there is no account. */
export function commandAs(
  account: ServiceAccount | null,
  file: string,
  args: readonly string[],
): [string, string[]] {
  return account ? ["runuser", ["-u", account.user, "--", file, ...args]] : [file, [...args]];
}
