import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { BigIntStats } from "node:fs";
import { lstat } from "node:fs/promises";
import { promisify } from "node:util";
import { RepoError } from "../errors.js";
import { joinPath } from "../tree/tree-io.js";
import type { TreeNode } from "../tree/tree-node.js";

const run = promisify(execFile);

/** lstat that reports "nothing there" (also when a parent is not a directory) as undefined. */
export async function lstatMaybe(path: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  }
}

export const TEMP_PREFIX = ".pwdr-restore-";

/** A fresh temporary name inside `dir`; what is written there is renamed into place when complete. */
export function tempPath(dir: Buffer): Buffer {
  return joinPath(dir, Buffer.from(`${TEMP_PREFIX}${randomBytes(8).toString("hex")}`));
}

/** A node's mtime as seconds for utimes; a double keeps it to within a fraction of a microsecond. */
export function mtimeSeconds(node: TreeNode): number {
  // utimes takes a double and the kernel call it makes keeps whole
  // microseconds; aiming at the middle of the wanted microsecond keeps the
  // double's rounding from landing in the one before.
  const ns = BigInt(node.mtimeNs);
  const micros = ns / 1000n;
  return Number(micros / 1_000_000n) + (Number(micros % 1_000_000n) + 0.5) / 1e6;
}

/** Whether an mtime on disk equals a node's, up to what utimes can set (see mtimeSeconds). */
export function sameMtime(statNs: bigint, node: TreeNode): boolean {
  const d = statNs - BigInt(node.mtimeNs);
  return d > -1000n && d < 1000n;
}

/** Whether a file on disk has the node's mode, mtime and (when `owner`) uid and gid. */
export function sameMetadata(s: BigIntStats, node: TreeNode, owner: boolean, mode = true): boolean {
  return (
    (!mode || Number(s.mode & 0o7777n) === node.mode) &&
    sameMtime(s.mtimeNs, node) &&
    (!owner || (Number(s.uid) === node.uid && Number(s.gid) === node.gid))
  );
}

/** Linux dev_t → major, minor (glibc's gnu_dev_major/minor). */
export function splitDev(rdev: number): { major: number; minor: number } {
  const d = BigInt(rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}

/**
 * Creates a FIFO or device node at `path` (a text path: the commands take
 * no raw bytes, so callers create it under a plain name and rename it).
 * Node has no mkfifo/mknod, so this runs coreutils' commands.
 */
export async function makeSpecial(path: string, node: TreeNode): Promise<void> {
  if (node.type === "fifo") {
    await run("mkfifo", ["-m", "600", "--", path]);
    return;
  }
  const { major, minor } = splitDev(node.rdev ?? 0);
  await run("mknod", ["-m", "600", "--", path, node.type === "chardev" ? "c" : "b", `${major}`, `${minor}`]);
}

/** Turns the target disk filling up into `no_space`; other errors pass through. */
export function targetError(err: unknown, what: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new RepoError(
      "no_space",
      `no space left on the restore target while ${what}; free space and retry`,
      {
        cause: err,
      },
    );
  }
  return err;
}

/** Errors of chown/chmod/utimes that leave the content right and are reported rather than fatal. */
export function isMetadataRefusal(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EINVAL";
}
