import { randomBytes } from "node:crypto";
import { constants, type Dirent, readdirSync, readSync, statSync } from "node:fs";
import { mkdir, open, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { RepoError } from "../errors.js";
import type { Backend, FileHandle, FileInfo, FileType, StagedFile } from "./backend.js";

const NAME = /^[0-9a-f]{64}$/;
type FsHandle = Awaited<ReturnType<typeof open>>;

/**
 * Reads up to this size are synchronous: one system call on a page-cache
 * hit, where the promise version costs a thread-pool round trip ten times
 * the read itself (a backup's walk reads its parent's trees, hundreds of
 * small blobs).
 */
const SYNC_READ = 64 * 1024;

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false })?.size;
  } catch {
    return undefined;
  }
}

async function readRange(
  fh: FsHandle,
  handle: FileHandle,
  range: { offset: number; length: number },
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(range.length);
  const bytesRead =
    range.length <= SYNC_READ
      ? readSync(fh.fd, buf, 0, range.length, range.offset)
      : (await fh.read(buf, 0, range.length, range.offset)).bytesRead;
  if (bytesRead !== range.length) {
    throw new RepoError(
      "data_corrupt",
      `${handle.type}/${handle.name} is truncated: wanted ${range.length} bytes at ${range.offset}, got ${bytesRead}`,
    );
  }
  return buf;
}

/**
 * Recently used pack files kept open for positional reads. The least
 * recently used idle one is closed when there are too many, and any handle
 * idle for a second is closed by a sweep, so handles do not outlive the
 * burst of reads they serve (nor wait for garbage collection to close them).
 */
class OpenFileCache {
  readonly #open = new Map<string, Promise<FsHandle>>();
  readonly #users = new Map<string, number>();
  readonly #lastUsed = new Map<string, number>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly opener: (handle: FileHandle) => Promise<FsHandle>,
    private readonly max = 32,
    private readonly idleMs = 1_000,
  ) {}

  async read(handle: FileHandle, range: { offset: number; length: number }): Promise<Buffer> {
    let pending = this.#open.get(handle.name);
    if (pending) this.#open.delete(handle.name);
    else {
      pending = this.opener(handle);
      pending.catch(() => this.#open.delete(handle.name));
    }
    this.#open.set(handle.name, pending);
    this.#users.set(handle.name, (this.#users.get(handle.name) ?? 0) + 1);
    this.#startSweeper();
    try {
      return await readRange(await pending, handle, range);
    } finally {
      const left = (this.#users.get(handle.name) ?? 1) - 1;
      if (left === 0) this.#users.delete(handle.name);
      else this.#users.set(handle.name, left);
      this.#lastUsed.set(handle.name, Date.now());
      await this.#evict();
    }
  }

  async forget(name: string): Promise<void> {
    const pending = this.#open.get(name);
    this.#open.delete(name);
    this.#lastUsed.delete(name);
    if (this.#open.size === 0) this.#stopSweeper();
    await pending?.then((fh) => fh.close()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    this.#lastUsed.clear();
    this.#stopSweeper();
    await Promise.all(all.map((p) => p.then((fh) => fh.close()).catch(() => {})));
  }

  async #evict(): Promise<void> {
    for (const name of [...this.#open.keys()]) {
      if (this.#open.size <= this.max) return;
      if (this.#users.has(name)) continue;
      await this.forget(name);
    }
  }

  #startSweeper(): void {
    if (this.#sweeper) return;
    this.#sweeper = setInterval(() => {
      const cutoff = Date.now() - this.idleMs;
      for (const name of [...this.#open.keys()]) {
        if (!this.#users.has(name) && (this.#lastUsed.get(name) ?? 0) <= cutoff) void this.forget(name);
      }
    }, this.idleMs);
    this.#sweeper.unref();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
class LocalStagedFile implements StagedFile {
  #open = true;

  constructor(
    private readonly fh: FsHandle,
    private readonly temp: string,
    private readonly target: (name: string) => string,
  ) {}

  async append(parts: readonly Uint8Array[]): Promise<void> {
    try {
      await this.fh.writev(parts as Uint8Array[]);
    } catch (err) {
      await this.discard();
      fsError(err, "writing a temporary file");
    }
  }

  async commit(name: string): Promise<void> {
    const target = this.target(name);
    try {
      await this.fh.sync();
      await this.#close();
      await rename(this.temp, target);
      await fsyncDir(dirname(target));
    } catch (err) {
      await this.discard();
      fsError(err, `writing ${target}`);
    }
  }

  async discard(): Promise<void> {
    await this.#close().catch(() => {});
    await unlink(this.temp).catch(() => {});
  }

  async #close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.fh.close();
  }
}

const DIRS: FileType[] = ["keys", "data", "index", "snapshots", "locks"];

function fsError(err: unknown, what: string): never {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") {
    throw new RepoError(
      "no_space",
      `no space left on the repository's disk while ${what}; free space and retry`,
      {
        cause: err,
      },
    );
  }
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
    throw new RepoError("backend_unavailable", `permission denied while ${what}`, { cause: err });
  }
  throw new RepoError("backend_unavailable", `${what} failed: ${(err as Error).message}`, { cause: err });
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A repository in a local directory: the embedded default. */
export class LocalBackend implements Backend {
  readonly root: string;
  readonly location: string;
  // Restores and checks read many blobs from each pack; reopening the file
  // for every blob costs two system calls per blob.
  readonly #packs = new OpenFileCache((h) => this.#open(h));

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `local:${this.root}`;
  }

  path(handle: FileHandle): string {
    if (handle.type === "config") return join(this.root, "config");
    if (!NAME.test(handle.name)) {
      throw new RepoError("invalid_argument", `"${handle.name}" is not a valid ${handle.type} file name`);
    }
    if (handle.type === "data") return join(this.root, "data", handle.name.slice(0, 2), handle.name);
    return join(this.root, handle.type, handle.name);
  }

  async create(): Promise<void> {
    if (await this.stat({ type: "config", name: "config" })) {
      throw new RepoError("repo_exists", `a repository already exists at ${this.root}`);
    }
    try {
      for (const d of DIRS) await mkdir(join(this.root, d), { recursive: true, mode: 0o700 });
      for (let i = 0; i < 256; i++) {
        await mkdir(join(this.root, "data", i.toString(16).padStart(2, "0")), {
          recursive: true,
          mode: 0o700,
        });
      }
    } catch (err) {
      fsError(err, `creating ${this.root}`);
    }
  }

  async save(handle: FileHandle, data: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const target = this.path(handle);
    const dir = dirname(target);
    const temp = join(dir, `.tmp-${randomBytes(8).toString("hex")}`);
    const parts = data instanceof Uint8Array ? [data] : data;
    try {
      const fh = await open(temp, "wx", 0o600);
      try {
        await fh.writev(parts as Uint8Array[]);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, target);
      await fsyncDir(dir);
    } catch (err) {
      await unlink(temp).catch(() => {});
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !(await this.#rootExists())) {
        throw new RepoError("repo_not_found", `no repository at ${this.root}`, { cause: err });
      }
      fsError(err, `writing ${handle.type}/${handle.name}`);
    }
  }

  /**
   * A temporary file where `save` puts its own (for packs a random data
   * subdirectory: the name, and so the final one, is known only at the
   * end), renamed into place at commit.
   */
  async stage(type: FileType): Promise<StagedFile> {
    if (type === "config") throw new RepoError("invalid_argument", "config is saved whole, not staged");
    const random = randomBytes(8).toString("hex");
    const dir = type === "data" ? join(this.root, "data", random.slice(0, 2)) : join(this.root, type);
    const temp = join(dir, `.tmp-${random}`);
    const fh = await open(temp, "wx", 0o600).catch(async (err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !(await this.#rootExists()))
        throw new RepoError("repo_not_found", `no repository at ${this.root}`, { cause: err });
      fsError(err, `creating a temporary ${type} file`);
    });
    return new LocalStagedFile(fh, temp, (name) => this.path({ type, name }));
  }

  async load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    if (range && handle.type === "data") return this.#packs.read(handle, range);
    const fh = await this.#open(handle);
    try {
      if (!range) return await fh.readFile();
      return await readRange(fh, handle, range);
    } finally {
      await fh.close();
    }
  }

  async #open(handle: FileHandle): Promise<FsHandle> {
    try {
      return await open(this.path(handle), "r");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        throw new RepoError(
          "blob_missing",
          `${handle.type}/${handle.name} does not exist in ${this.location}`,
          {
            cause: err,
          },
        );
      }
      fsError(err, `reading ${handle.type}/${handle.name}`);
    }
  }

  /** Closes the pack files kept open for ranged reads. */
  async close(): Promise<void> {
    await this.#packs.closeAll();
  }

  async stat(handle: FileHandle): Promise<FileInfo | undefined> {
    try {
      const s = await stat(this.path(handle));
      return { name: handle.name, size: s.size };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      fsError(err, `checking ${handle.type}/${handle.name}`);
    }
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    if (type === "config") {
      const info = await this.stat({ type, name: "config" });
      if (info) yield info;
      return;
    }
    const dirs =
      type === "data"
        ? (await this.#entries(join(this.root, "data")))
            .filter((d) => d.isDirectory())
            .map((d) => join(this.root, "data", d.name))
        : [join(this.root, type)];
    for (const dir of dirs) yield* await this.#files(dir);
  }

  /** The repository files in one directory (temporary files skipped) with their sizes. */
  async #files(dir: string): Promise<FileInfo[]> {
    const files: FileInfo[] = [];
    for (const e of await this.#entries(dir)) {
      if (!e.isFile() || !NAME.test(e.name)) continue;
      // Gone meanwhile (a prune removed it) or unreadable: not listed.
      const size = sizeOf(join(dir, e.name));
      if (size !== undefined) files.push({ name: e.name, size });
    }
    return files;
  }

  async remove(handle: FileHandle): Promise<void> {
    if (handle.type === "data") await this.#packs.forget(handle.name);
    try {
      await rm(this.path(handle), { force: true });
    } catch (err) {
      fsError(err, `removing ${handle.type}/${handle.name}`);
    }
  }

  /**
   * Removes temporary files a crashed writer left behind. Only files older
   * than `minAgeMs` go, so a save in progress is never cut off; lock files
   * are not touched (a lock being written is a live lock).
   */
  async removeTemporaryFiles(minAgeMs = 60 * 60 * 1000): Promise<number> {
    let removed = 0;
    const dirs = ["keys", "index", "snapshots"].map((d) => join(this.root, d));
    for (const d of await this.#entries(join(this.root, "data"))) {
      if (d.isDirectory()) dirs.push(join(this.root, "data", d.name));
    }
    const cutoff = Date.now() - minAgeMs;
    for (const dir of dirs) {
      for (const entry of await this.#entries(dir)) {
        if (!entry.name.startsWith(".tmp-")) continue;
        const file = join(dir, entry.name);
        const s = await stat(file).catch(() => undefined);
        if (s && s.mtimeMs <= cutoff) {
          await rm(file, { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  /**
   * Synchronous, as `sizeOf`: listing a repository is a few hundred short
   * system calls (256 pack directories, a stat per file), where each promise
   * would wait for the thread pool in turn (20 ms for an almost empty one).
   */
  async #entries(dir: string): Promise<Dirent[]> {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        if (!(await this.#rootExists()))
          throw new RepoError("repo_not_found", `no repository at ${this.root}`);
        return [];
      }
      fsError(err, `listing ${dir}`);
    }
  }

  async #rootExists(): Promise<boolean> {
    return stat(this.root).then(
      () => true,
      () => false,
    );
  }
}
