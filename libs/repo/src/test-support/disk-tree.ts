import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  chown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { Backup } from "../archiver/archiver.js";
import type { Repository } from "../repository.js";
import { loadSnapshot, type SnapshotEntry } from "../snapshot/snapshot.js";
import { joinPath } from "../tree/tree-io.js";
import { seededBytes } from "./fixtures.js";

export const IS_ROOT = process.getuid?.() === 0;

/** What a comparison of two directory trees looks at, per entry. */
export interface DiskEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: bigint;
  size?: number;
  sha256?: string;
  /** Symlink target bytes, hex. */
  target?: string;
  /** For files with several links: the first path (in walk order) sharing the inode. */
  linkGroup?: string;
  rdev?: number;
}

function typeOf(s: Awaited<ReturnType<typeof lstat>>): string {
  if (s.isFile()) return "file";
  if (s.isDirectory()) return "dir";
  if (s.isSymbolicLink()) return "symlink";
  if (s.isFIFO()) return "fifo";
  if (s.isCharacterDevice()) return "chardev";
  if (s.isBlockDevice()) return "blockdev";
  return "socket";
}

export async function sha256File(path: Buffer | string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/**
 * Every entry below `root`, keyed by its relative path (raw bytes as hex,
 * with a readable form in front), sorted. Files are hashed unless `hash`
 * says otherwise.
 */
export async function describeTree(
  root: Buffer | string,
  hash: (rel: string) => boolean = () => true,
): Promise<Map<string, DiskEntry>> {
  const out = new Map<string, DiskEntry>();
  const inodes = new Map<string, string>();
  const walk = async (dir: Buffer, rel: Buffer | undefined) => {
    const names = (await readdir(dir, { encoding: "buffer" })).sort(Buffer.compare);
    for (const name of names) {
      const path = joinPath(dir, name);
      const relPath = rel ? joinPath(rel, name) : name;
      const key = `${relPath.toString("utf8")} [${relPath.toString("hex")}]`;
      const s = await lstat(path, { bigint: true });
      const e: DiskEntry = {
        type: typeOf(s),
        mode: Number(s.mode & 0o7777n),
        uid: Number(s.uid),
        gid: Number(s.gid),
        mtimeNs: s.mtimeNs,
      };
      if (s.isFile()) {
        e.size = Number(s.size);
        if (hash(relPath.toString("utf8"))) e.sha256 = await sha256File(path);
        if (s.nlink > 1n) {
          const ino = `${s.dev}:${s.ino}`;
          if (!inodes.has(ino)) inodes.set(ino, key);
          e.linkGroup = inodes.get(ino) as string;
        }
      }
      if (s.isSymbolicLink()) e.target = (await readlink(path, { encoding: "buffer" })).toString("hex");
      if (s.isCharacterDevice() || s.isBlockDevice()) e.rdev = Number(s.rdev);
      out.set(key, e);
      if (s.isDirectory()) await walk(path, relPath);
    }
  };
  await walk(typeof root === "string" ? Buffer.from(root) : root, undefined);
  return out;
}

/**
 * Asserts two described trees are equal, mtimes to within a microsecond
 * (utimes takes a double: sub-microsecond, not exact, nanoseconds).
 */
export function diffTrees(expected: Map<string, DiskEntry>, actual: Map<string, DiskEntry>): string[] {
  const problems: string[] = [];
  for (const [key, e] of expected) {
    const a = actual.get(key);
    if (!a) {
      problems.push(`missing ${key}`);
      continue;
    }
    const d = a.mtimeNs - e.mtimeNs;
    if (d <= -1000n || d >= 1000n) problems.push(`${key}: mtime ${a.mtimeNs} != ${e.mtimeNs}`);
    const strip = ({ mtimeNs: _m, ...rest }: DiskEntry) => rest;
    const [x, y] = [JSON.stringify(strip(e)), JSON.stringify(strip(a))];
    if (x !== y) problems.push(`${key}: ${y} != expected ${x}`);
  }
  for (const key of actual.keys()) if (!expected.has(key)) problems.push(`unexpected ${key}`);
  return problems;
}

export const INVALID_UTF8_NAME = Buffer.from([0x66, 0xff, 0xfe]);
export const INVALID_UTF8_DIR = Buffer.from([0x64, 0xff]);

/** Writes `data` at `offset` into a file of `size` bytes that is otherwise a hole. */
export async function writeSparse(
  path: string,
  size: number,
  parts: { offset: number; data: Buffer }[],
): Promise<void> {
  const fh = await open(path, "w");
  try {
    await fh.truncate(size);
    for (const p of parts) await fh.write(p.data, 0, p.data.length, p.offset);
  } finally {
    await fh.close();
  }
}

/**
 * A directory tree with every kind of entry a restore must reproduce:
 * modes with setuid/setgid/sticky bits, another owner (as root), chosen
 * mtimes with sub-second parts, multi-blob and sparse files, hardlinks,
 * symlinks (relative, absolute, dangling, to a directory, pointing up),
 * empty directories and files, names that are not UTF-8, a FIFO and (as
 * root) a character device.
 */
export async function buildFixtureTree(root: string): Promise<{ devices: boolean }> {
  const p = (rel: string) => `${root}/${rel}`;
  await mkdir(root, { recursive: true });
  for (const d of ["sub/deep/a/b", "empty-dir", "setgid-dir", "sticky", "ro-dir"])
    await mkdir(p(d), { recursive: true });
  await writeFile(p("file.txt"), "hello restore\n");
  await writeFile(p("exec.sh"), "#!/bin/sh\necho hi\n");
  await writeFile(p("setuid"), "not really a program\n");
  await writeFile(p("owned"), "someone else's\n");
  await writeFile(p("empty-file"), "");
  await writeFile(p("large.bin"), seededBytes("large", 3 * 1024 * 1024 + 123));
  await writeSparse(p("sparse.bin"), 20 * 1024 * 1024, [
    { offset: 9 * 1024 * 1024, data: seededBytes("island", 100_000) },
  ]);
  await writeFile(p("sub/deep/a/b/leaf"), "deep leaf\n");
  await writeFile(p("sticky/f"), "in sticky\n");
  await writeFile(p("ro-dir/f"), "read only dir\n");
  await writeFile(p("hard-a"), seededBytes("hard", 5000));
  await link(p("hard-a"), p("sub/hard-b"));
  await link(p("hard-a"), p("hard-c"));
  await writeFile(p("single-link"), "one link\n");
  await symlink("file.txt", p("link-rel"));
  await symlink("does/not/exist", p("link-dangling"));
  await symlink("/etc/passwd", p("link-abs"));
  await symlink("sub", p("link-dir"));
  await symlink("../outside", p("link-up"));
  const odd = joinPath(Buffer.from(root), INVALID_UTF8_NAME);
  await writeFile(odd, "odd name\n");
  const oddDir = joinPath(Buffer.from(root), INVALID_UTF8_DIR);
  await mkdir(oddDir);
  await writeFile(joinPath(oddDir, Buffer.from([0xfe])), "odd inside odd\n");
  await symlink(INVALID_UTF8_NAME, joinPath(Buffer.from(root), Buffer.from("link-odd")));
  execFileSync("mkfifo", ["-m", "640", p("fifo")]);
  let devices = false;
  if (IS_ROOT) {
    await chown(p("owned"), 1234, 5678);
    await chown(p("sub/deep"), 4321, 8765);
    try {
      execFileSync("mknod", ["-m", "620", p("null-dev"), "c", "1", "3"], { stdio: "ignore" });
      devices = true;
    } catch {
      // a container without CAP_MKNOD: the fixture has no device
    }
  }
  await chmod(p("exec.sh"), 0o755);
  await chmod(p("setuid"), 0o4755);
  await chmod(p("file.txt"), 0o640);
  await chmod(p("setgid-dir"), 0o2775);
  await chmod(p("sticky"), 0o1777);
  await chmod(p("empty-dir"), 0o700);
  await chmod(p("owned"), 0o600);

  // mtimes last, children before their directory, with sub-second parts.
  let t = 1_600_000_000;
  const stamp = async (path: Buffer, isLink: boolean) => {
    t += 1000;
    const when = t + 0.123456789;
    await (isLink ? lutimes(path, when, when) : utimes(path, when, when));
  };
  const walk = async (dir: Buffer) => {
    for (const name of (await readdir(dir, { encoding: "buffer" })).sort(Buffer.compare)) {
      const path = joinPath(dir, name);
      const s = await lstat(path);
      if (s.isDirectory()) await walk(path);
      await stamp(path, s.isSymbolicLink());
    }
  };
  await walk(Buffer.from(root));
  await chmod(p("ro-dir"), 0o555);
  await utimes(p("ro-dir"), 1_500_000_000.5, 1_500_000_000.5);
  return { devices };
}

/** Backs up `path` with the archiver and returns the snapshot. */
export async function backUp(repo: Repository, ...paths: string[]): Promise<SnapshotEntry> {
  const backup = await Backup.start(repo);
  for (const path of paths) await backup.addPath(path);
  const { id, warnings } = await backup.finish();
  if (warnings.length) throw new Error(`backup warnings: ${JSON.stringify(warnings)}`);
  return loadSnapshot(repo, id);
}
