import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { chownSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { RepoError } from "@pwdr/repo";

export const LOOPBACK = "127.0.0.1";

/** The OS user a sandbox server runs as: PostgreSQL refuses to run as root. */
export interface ServerAccount {
  user: string;
  uid: number;
  gid: number;
}

/** `null` when the agent is not root: the server then runs as the agent's own user. */
export function accountWhenRoot(user: string): ServerAccount | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const id = (flag: string) => Number(execFileSync("id", [flag, user], { encoding: "utf8" }).trim());
    return { user, uid: id("-u"), gid: id("-g") };
  } catch {
    throw new RepoError(
      "source_failed",
      `the sandbox needs the OS user "${user}" to run its server as (the server refuses root); install the server package that creates it`,
    );
  }
}

export function giveTo(account: ServerAccount | null, ...paths: string[]): void {
  if (account) for (const path of paths) chownSync(path, account.uid, account.gid);
}

/** argv running `argv` as `account` (or as is). */
export function asAccount(account: ServerAccount | null, argv: string[]): string[] {
  return account ? ["runuser", "-u", account.user, "--", ...argv] : argv;
}

/**
 * A random password in a 0600 file: the sandbox holds a copy of production
 * data, so even on loopback nobody else on the host may log in to it.
 */
export function writePasswordFile(path: string, account: ServerAccount | null): string {
  writeFileSync(path, `${randomBytes(24).toString("hex")}\n`, { mode: 0o600 });
  giveTo(account, path);
  return path;
}

/** A loopback port free right now; the server may still lose it to another process, so callers retry. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, LOOPBACK);
  await once(probe, "listening");
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, "close");
  return port;
}

/** Polls `ready` until it returns true or `timeoutMs` passes; errors while polling count as not ready. */
export async function waitUntil(ready: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return true;
    await sleep(100);
  }
  return false;
}

/** The leading number of a version string: "15.8 (Debian 15.8-1)" → 15, "7.0.15" → 7. */
export function majorOf(version: string): number | undefined {
  const major = Number.parseInt(version, 10);
  return Number.isNaN(major) ? undefined : major;
}

/**
 * SIGKILL for a sandbox server that did not stop when asked, only while
 * `pid` still runs a command line naming `marker` (its data dir or
 * address): a stale pid file must not take an unrelated process down.
 */
export function killIfStillOurs(pid: number, marker: string): void {
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return;
  }
  if (!cmdline.includes(marker)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

/** Gone, or a zombie nobody reaps (a daemonized server's parent is init, which may be slow to). */
export function processGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}
