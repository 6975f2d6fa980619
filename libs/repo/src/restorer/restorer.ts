import { randomBytes } from "node:crypto";
import { type BigIntStats, constants } from "node:fs";
import {
  chmod,
  type FileHandle,
  lchown,
  link,
  lutimes,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  unlink,
} from "node:fs/promises";
import { resolve } from "node:path";
import { Budget } from "../archiver/limiter.js";
import { displayPath } from "../browse/snapshot-path.js";
import { RepoError } from "../errors.js";
import type { LockRepository } from "../lock/list-locks.js";
import { withLock } from "../lock/with-lock.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { joinPath } from "../tree/tree-io.js";
import { nodeNameBytes, nodeTargetBytes, type TreeNode } from "../tree/tree-node.js";
import { type ReadRepository, readContent, type ZeroBlobs } from "./content-reader.js";
import { hasContent } from "./file-compare.js";
import {
  isMetadataRefusal,
  lstatMaybe,
  makeSpecial,
  mtimeSeconds,
  sameMetadata,
  sameMtime,
  TEMP_PREFIX,
  targetError,
  tempPath,
} from "./restore-fs.js";
import { RestoreTally } from "./restore-tally.js";
import type { OverwriteMode, RestoreOptions, RestoreResult } from "./restore-types.js";
import { type RestoreRoot, selectRoots } from "./selection.js";
import { type BatchRepository, SmallFileBatcher } from "./small-file-batch.js";
import { SMALL_FILE_BYTES, writeSmallFile } from "./small-file-writer.js";
import { TreeCache } from "./tree-cache.js";

export type {
  OverwriteMode,
  RestoreAction,
  RestoreIssue,
  RestoreItem,
  RestoreOptions,
  RestoreProgress,
  RestoreResult,
} from "./restore-types.js";

/**
 * Restores a snapshot, or paths inside it, into `options.target` (§10).
 *
 * Content is streamed blob by blob and every blob is verified; all-zero
 * blobs are skipped so holes are recreated. Small files are decoded and
 * written on the blob workers in batches (small-file-batch.ts); files are
 * written several at a time, and a directory's files overlap with the next
 * directories'. A file, symlink or special file
 * that may replace something is created under a temporary name in its
 * directory and renamed into place when complete (temporary files start
 * with ".pwdr-restore-"), so what was there stays whole until then. Files
 * in a directory this restore created are written at their real name. A
 * failed restore removes the file it was writing; a killed one may leave
 * that one file partial, with the wrong mtime (set last), so a rerun with
 * overwrite "if-changed" rewrites it. Directories get their metadata after
 * their children.
 *
 * Safety: names are checked (`unsafe_path` for empty, ".", "..", "/" or NUL,
 * and for a tree listing a name twice), parents are created one by one and a
 * symlink met where a directory is needed is refused with `unsafe_path`, files
 * are opened with O_NOFOLLOW and O_EXCL, and anything already at a path is
 * replaced by rename, never written through. This guards against malicious
 * snapshots and a hostile existing target, not against another process
 * changing the target while the restore runs.
 *
 * Fatal errors (a damaged or missing blob, an unsafe path, a full disk, a
 * file that cannot be written) stop the restore with an exception; refused
 * metadata and device files that need root are listed in `errors`.
 */
/**
 * Restores under a shared lock (§11), so a prune cannot delete the packs
 * being read; it waits up to `lockWaitMs` (default 10 minutes) for a
 * prune's deletion phase to end.
 */
export function restoreSnapshot(
  repo: RestoreRepository,
  snapshot: Pick<Snapshot, "tree" | "paths">,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const lock = {
    exclusive: false,
    operation: options.dryRun ? "restore --dry-run" : "restore",
    waitMs: options.lockWaitMs ?? DEFAULT_READ_LOCK_WAIT_MS,
  };
  return withLock(repo, lock, () => new Restorer(repo, options).run(snapshot));
}

/** What a restore needs from a repository. */
export type RestoreRepository = ReadRepository & LockRepository & BatchRepository;

type DirState = "new" | "replaced" | "existing";
/**
 * A directory whose children were started; `done` settles when they and its
 * metadata are finished. (Wrapped: an async function returning a bare
 * promise would wait for it.)
 */
type StartedDir = { done: Promise<void> } | undefined;

export const DEFAULT_READ_LOCK_WAIT_MS = 10 * 60_000;
/**
 * Files bigger than SMALL_FILE_BYTES written at once, each with a few blobs
 * read ahead: enough to keep two workers busy. (16 added ~50 MiB of peak RSS
 * in a full restore once directories overlapped, for no speed.)
 */
const FILES_IN_FLIGHT = 4;
/**
 * Content bytes of small files in flight to the workers, each counted as at
 * least SMALL_FILE_MIN: enough for a few batches per worker, so neither
 * waits for the main thread.
 */
const SMALL_BYTES_IN_FLIGHT = 8 * 1024 * 1024;
const SMALL_FILE_MIN = 8 * 1024;
const OWN_UID = process.getuid?.();
const OWN_GID = process.getgid?.();

class Restorer {
  readonly #overwrite: OverwriteMode;
  readonly #dry: boolean;
  readonly #isRoot = process.getuid?.() === 0;
  readonly #owner: boolean;
  readonly #zeros: ZeroBlobs = new Map();
  /** Hardlinked files restored so far: "dev:inode" in the snapshot → path on disk. */
  readonly #links = new Map<string, Buffer>();
  readonly #tally: RestoreTally;
  readonly #files = new Budget(FILES_IN_FLIGHT);
  readonly #smallBytes = new Budget(SMALL_BYTES_IN_FLIGHT);
  readonly #batcher: SmallFileBatcher;
  readonly #trees: TreeCache;
  readonly #createdDirs = new Set<string>();
  /** Directories #createDirs entered, until their children are started: path (latin1) → state. */
  readonly #enteredDirs = new Map<string, DirState | undefined>();
  /** Files being written and directories waiting for their children; all settle before `run` returns. */
  readonly #tasks = new Set<Promise<void>>();
  /** The first of those to fail; stops the walk. */
  #failure: { error: unknown } | undefined;
  #root: Buffer = Buffer.alloc(0);
  #staging = "";

  constructor(
    private readonly repo: RestoreRepository,
    private readonly options: RestoreOptions,
  ) {
    const overwrite = options.overwrite ?? "always";
    if (!["always", "if-changed", "never"].includes(overwrite)) {
      throw new RepoError(
        "invalid_argument",
        `overwrite must be "always", "if-changed" or "never", not "${overwrite}"`,
      );
    }
    this.#overwrite = overwrite;
    this.#dry = options.dryRun ?? false;
    this.#owner = options.sameOwner ?? this.#isRoot;
    this.#tally = new RestoreTally(options);
    this.#batcher = new SmallFileBatcher(repo);
    this.#trees = new TreeCache(repo);
  }

  async run(snapshot: Pick<Snapshot, "tree" | "paths">): Promise<RestoreResult> {
    if (!this.options.target) throw new RepoError("invalid_argument", "a restore needs a target directory");
    await this.repo.loadIndex();
    const roots = await selectRoots(
      this.repo,
      snapshot,
      this.options.include,
      this.options.stripPrefix ?? false,
    );
    await this.#prepareTarget();
    if (this.options.onProgress) await this.#countTotals(roots);

    // Directories above included paths, shared between includes; finished last, deepest first.
    const ancestors = new Map<string, { path: Buffer; node: TreeNode; state: DirState | undefined }>();
    try {
      await this.#walkRoots(roots, ancestors);
    } finally {
      // Writes in flight finish (or fail) before the restore reports, so no
      // file is still being written after an error was returned.
      await Promise.allSettled([...this.#tasks]);
    }
    if (this.#failure) throw this.#failure.error;
    for (const { path, node, state } of [...ancestors.values()].reverse()) {
      if (state) await this.#finishDir(path, node, state);
    }
    this.#tally.emit(true);
    return this.#tally.result;
  }

  async #walkRoots(
    roots: readonly RestoreRoot[],
    ancestors: Map<string, { path: Buffer; node: TreeNode; state: DirState | undefined }>,
  ): Promise<void> {
    for (const root of roots) {
      let dir: Buffer = this.#root;
      let blocked = false;
      for (const [i, node] of root.ancestors.entries()) {
        dir = joinPath(dir, root.diskParent[i] as Buffer);
        const key = dir.toString("latin1");
        let entry = ancestors.get(key);
        if (!entry) {
          const components = root.components.slice(0, i + 1);
          entry = { path: dir, node, state: await this.#enterDir(dir, node, components) };
          ancestors.set(key, entry);
        }
        if (!entry.state) {
          blocked = true;
          break;
        }
      }
      if (blocked) continue;
      await this.#createDirs(root, dir);
      if (root.childrenOnly) await this.#startChildren(root.node.subtree, dir, root.components);
      else await this.#restoreNode(dir, root.node, root.components);
      // One root at a time, as includes may overlap when stripped into one place.
      await Promise.allSettled([...this.#tasks]);
      if (this.#failure) throw this.#failure.error;
    }
  }

  /**
   * Creates the directories of a root before any file in them, as restic
   * does. Why: creating 11,000 files in 600 directories right after a
   * similar tree was deleted cost ~1.3 s more system time (2.3-2.9 s against
   * 1.5 s) with each directory's files created before the next directory,
   * on the benchmark machine's ext4 without a journal, where allocating an
   * inode steps over every inode of its group freed in the last minutes
   * (find_inode_bit, recently_deleted); see BENCHMARKS.md.
   */
  async #createDirs(root: RestoreRoot, dir: Buffer): Promise<void> {
    const enter = async (parent: Buffer, node: TreeNode, components: Buffer[]) => {
      const path = joinPath(parent, nodeNameBytes(node));
      this.#tally.at(components);
      let state: DirState | undefined;
      try {
        state = await this.#enterDir(
          path,
          node,
          components,
          this.#createdDirs.has(parent.toString("latin1")),
        );
      } catch (err) {
        throw targetError(err, `restoring ${displayPath(components)}`);
      }
      this.#enteredDirs.set(path.toString("latin1"), state);
      if (state) await visit(node.subtree, path, components);
    };
    const visit = async (treeId: string | undefined, parent: Buffer, components: readonly Buffer[]) => {
      if (!treeId) return;
      for (const node of (await this.#trees.get(treeId)).nodes) {
        if (node.type === "dir") await enter(parent, node, [...components, nodeNameBytes(node)]);
      }
    };
    if (root.childrenOnly) await visit(root.node.subtree, dir, root.components);
    else if (root.node.type === "dir") await enter(dir, root.node, root.components);
  }

  async #prepareTarget(): Promise<void> {
    const abs = resolve(this.options.target);
    if (!this.#dry) {
      await mkdir(abs, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
        throw new RepoError("invalid_argument", `cannot create the restore target ${abs}: ${err.message}`, {
          cause: err,
        });
      });
    }
    let root: Buffer;
    try {
      root = await realpath(abs, { encoding: "buffer" });
    } catch (err) {
      if (!(this.#dry && (err as NodeJS.ErrnoException).code === "ENOENT")) throw err;
      root = Buffer.from(abs);
    }
    const s = await lstatMaybe(root);
    if (s && !s.isDirectory())
      throw new RepoError("invalid_argument", `the restore target ${abs} is not a directory`);
    this.#root = root;
    this.#staging = abs;
  }

  async #countTotals(roots: readonly RestoreRoot[]): Promise<void> {
    const subtrees: string[] = [];
    for (const root of roots) {
      if (!root.childrenOnly) this.#tally.planned(root.node);
      if (root.node.type === "dir" && root.node.subtree) subtrees.push(root.node.subtree);
    }
    await this.#trees.walk(subtrees, (tree) => {
      for (const node of tree.nodes) this.#tally.planned(node);
    });
  }

  /**
   * Starts restoring a tree's nodes into `dir`; returns their completions
   * without waiting for them. Plain files are written several at a time and
   * a subdirectory's files overlap with what comes after it, to hide
   * per-file latency and keep both workers busy; everything else (creating
   * directories, links, hard-linked files whose first copy must exist before
   * the others) happens in snapshot order before this returns.
   */
  async #startChildren(
    treeId: string | undefined,
    dir: Buffer,
    components: readonly Buffer[],
  ): Promise<Promise<void>[]> {
    if (!treeId) return [];
    const tree = await this.#trees.get(treeId);
    const started: Promise<void>[] = [];
    for (const node of tree.nodes) {
      if (this.#failure) throw this.#failure.error;
      const childComponents = [...components, nodeNameBytes(node)];
      if (node.type !== "file" || node.links > 1) {
        const dirStarted = await this.#restoreNode(dir, node, childComponents);
        if (dirStarted) started.push(dirStarted.done);
        continue;
      }
      const [budget, amount] =
        node.size <= SMALL_FILE_BYTES
          ? [this.#smallBytes, Math.max(node.size, SMALL_FILE_MIN)]
          : [this.#files, 1];
      await budget.acquire(amount);
      const task = this.#restoreNode(dir, node, childComponents).then(() => {});
      started.push(this.#track(task.finally(() => budget.release(amount))));
    }
    return started;
  }

  /** Keeps `task` until it settles; its failure stops the restore. */
  #track(task: Promise<void>): Promise<void> {
    this.#tasks.add(task);
    task.then(
      () => this.#tasks.delete(task),
      (error: unknown) => {
        this.#tasks.delete(task);
        this.#failure ??= { error };
      },
    );
    return task;
  }

  /** Restores one node; for a directory, resolves once its children are started, with its completion. */
  async #restoreNode(dir: Buffer, node: TreeNode, components: Buffer[]): Promise<StartedDir> {
    const path = joinPath(dir, nodeNameBytes(node));
    this.#tally.at(components);
    try {
      switch (node.type) {
        case "dir":
          return await this.#restoreDir(path, node, components);
        case "file":
          await this.#restoreFile(dir, path, node, components);
          return undefined;
        case "symlink":
          await this.#restoreSymlink(dir, path, node, components);
          return undefined;
        case "fifo":
        case "chardev":
        case "blockdev":
          await this.#restoreSpecial(path, node, components);
          return undefined;
        case "socket":
          this.#tally.skip(path, node, components, "sockets are not restored");
          return undefined;
        default:
          throw new RepoError(
            "data_corrupt",
            `${displayPath(components)} has an unknown type ${JSON.stringify((node as TreeNode).type)}`,
          );
      }
    } catch (err) {
      throw targetError(err, `restoring ${displayPath(components)}`);
    }
  }

  // ---- directories ----

  /** Makes `path` a directory we may write into; undefined when an entry is in the way and must stay. */
  async #enterDir(
    path: Buffer,
    node: TreeNode,
    components: Buffer[],
    freshParent = false,
  ): Promise<DirState | undefined> {
    // In a directory this restore created there is nothing to look for (as for files).
    const existing = freshParent ? undefined : await lstatMaybe(path);
    let state: DirState = "new";
    if (existing?.isSymbolicLink()) {
      throw new RepoError(
        "unsafe_path",
        `${path.toString("utf8")} is a symbolic link in the target; refusing to restore ${displayPath(components)} through it`,
      );
    }
    if (existing?.isDirectory()) {
      state = "existing";
    } else if (existing) {
      if (this.#overwrite === "never") {
        this.#tally.skip(path, node, components, "a non-directory of that name exists");
        return undefined;
      }
      state = "replaced";
      if (!this.#dry) await unlink(path);
    }
    if (state !== "existing" && !this.#dry) {
      await mkdir(path, { mode: 0o700 });
      this.#createdDirs.add(path.toString("latin1"));
    }
    if (state === "existing") {
      if (this.#overwrite === "never") this.#tally.skip(path, node, components, "exists");
      else if (existing && sameMetadata(existing, node, this.#owner))
        this.#tally.unchanged(path, node, components);
      else this.#tally.done(path, node, components, "update-metadata");
    } else {
      this.#tally.done(path, node, components, state === "new" ? "create" : "replace");
    }
    return state;
  }

  /** Creates the directory and starts its children; the returned completion sets its metadata after theirs. */
  async #restoreDir(path: Buffer, node: TreeNode, components: Buffer[]): Promise<StartedDir> {
    const key = path.toString("latin1");
    const state = this.#enteredDirs.has(key)
      ? this.#enteredDirs.get(key)
      : await this.#enterDir(path, node, components);
    this.#enteredDirs.delete(key);
    if (!state) return undefined;
    const children = await this.#startChildren(node.subtree, path, components);
    const finish = async () => {
      await settleAll(children);
      try {
        await this.#finishDir(path, node, state);
      } catch (err) {
        throw targetError(err, `restoring ${displayPath(components)}`);
      }
    };
    return { done: this.#track(finish()) };
  }

  /** Sets a directory's owner, mode and mtime once its children are in place. */
  async #finishDir(path: Buffer, node: TreeNode, state: DirState): Promise<void> {
    if (this.#dry || (state === "existing" && this.#overwrite === "never")) return;
    const fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      await this.#applyMetadata(fh, node, path);
    } finally {
      await fh.close();
    }
  }

  // ---- files ----

  async #restoreFile(dir: Buffer, path: Buffer, node: TreeNode, components: Buffer[]): Promise<void> {
    // A directory this restore created holds only what it put there, and tree
    // names are unique, so there is nothing to look for (saves a failing lstat per file).
    const fresh = this.#createdDirs.has(dir.toString("latin1"));
    const existing = fresh ? undefined : await lstatMaybe(path);
    const key = hardlinkKey(node);
    const first = key ? this.#links.get(key) : undefined;
    if (existing && this.#overwrite === "never") return this.#tally.skip(path, node, components, "exists");
    if (existing?.isFile() && this.#overwrite === "if-changed") {
      const verdict = await this.#compareFile(path, existing, node, first);
      if (verdict === "same") {
        if (key && !first) this.#links.set(key, path);
        return this.#tally.unchanged(path, node, components);
      }
      if (verdict === "metadata" && existing.nlink === 1n && (await this.#fixFileMetadata(path, node))) {
        if (key && !first) this.#links.set(key, path);
        return this.#tally.done(path, node, components, "update-metadata");
      }
    }
    let linked = false;
    if (!this.#dry) {
      linked = first !== undefined && (await this.#placeHardlink(dir, first, path, existing));
      if (!linked) await this.#writeFile(fresh ? undefined : dir, path, node, existing);
    } else {
      linked = first !== undefined;
    }
    if (key && !linked) this.#links.set(key, path);
    if (!linked) this.#tally.restoredBytes(node.size);
    // Written content counts its progress as it goes; links and dry runs have none to count.
    if (linked || this.#dry) this.#tally.bytes(node.size);
    this.#tally.done(path, node, components, existing ? "replace" : "create");
  }

  async #compareFile(
    path: Buffer,
    existing: BigIntStats,
    node: TreeNode,
    first: Buffer | undefined,
  ): Promise<"same" | "metadata" | "different"> {
    if (first) {
      const f = await lstatMaybe(first);
      if (f && f.ino === existing.ino && f.dev === existing.dev) return "same";
      return "different";
    }
    if (Number(existing.size) !== node.size) return "different";
    // Like restic: a file with the snapshot's size and mtime is taken as up to date; otherwise it is read.
    if (!sameMtime(existing.mtimeNs, node) && !(await hasContent(this.repo, path, node, this.#zeros))) {
      return "different";
    }
    return sameMetadata(existing, node, this.#owner) ? "same" : "metadata";
  }

  /** Fixes owner, mode and mtime of a file whose content is right; false when it cannot be opened. */
  async #fixFileMetadata(path: Buffer, node: TreeNode): Promise<boolean> {
    if (this.#dry) return true;
    let fh: FileHandle;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      await this.#applyMetadata(fh, node, path);
    } finally {
      await fh.close();
    }
    return true;
  }

  /**
   * Writes a file under a temporary name in `stagingDir` and renames it over
   * whatever is at `path`; without `stagingDir` (a directory this restore
   * created, where nothing can be replaced) it is written at `path` directly:
   * creating and renaming a temporary file costs about a third more than
   * creating the file. A failure removes what was written either way.
   */
  async #writeFile(
    stagingDir: Buffer | undefined,
    path: Buffer,
    node: TreeNode,
    existing: BigIntStats | undefined,
  ): Promise<void> {
    const temp = stagingDir ? tempPath(stagingDir) : undefined;
    if (node.size <= SMALL_FILE_BYTES && !existing?.isDirectory()) return this.#writeSmall(temp, path, node);
    const written = temp ?? path;
    const fh = await open(
      written,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    let closed = false;
    let placed = false;
    try {
      let end = 0;
      for await (const piece of readContent(this.repo, node, this.#zeros)) {
        // An all-zero blob is not written: the file is extended past it below, leaving a hole.
        if (piece.data) {
          await writeAll(fh, piece.data, piece.offset);
          end = piece.offset + piece.length;
        }
        this.#tally.bytes(piece.length);
      }
      if (end < node.size) await fh.truncate(node.size);
      await this.#applyMetadata(fh, node, path, true);
      closed = true;
      await fh.close();
      if (existing?.isDirectory()) await rm(path, { recursive: true, force: true });
      if (temp) await rename(temp, path);
      placed = true;
    } finally {
      if (!closed) await fh.close().catch(() => {});
      if (!placed) await unlink(written).catch(() => {});
    }
  }

  /** Links `path` to a file restored earlier; false when the file system cannot (the caller copies). */
  async #placeHardlink(
    dir: Buffer,
    first: Buffer,
    path: Buffer,
    existing: BigIntStats | undefined,
  ): Promise<boolean> {
    const temp = tempPath(dir);
    try {
      await link(first, temp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EXDEV" || code === "EPERM" || code === "EMLINK" || code === "ENOTSUP") return false;
      throw err;
    }
    try {
      if (existing?.isDirectory()) await rm(path, { recursive: true, force: true });
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    return true;
  }

  // ---- symlinks ----

  async #restoreSymlink(dir: Buffer, path: Buffer, node: TreeNode, components: Buffer[]): Promise<void> {
    const target = nodeTargetBytes(node);
    if (target.length === 0 || target.includes(0)) {
      throw new RepoError(
        "data_corrupt",
        `symlink ${displayPath(components)} has an empty target or one with NUL`,
      );
    }
    const existing = await lstatMaybe(path);
    if (existing && this.#overwrite === "never") return this.#tally.skip(path, node, components, "exists");
    if (
      existing?.isSymbolicLink() &&
      this.#overwrite === "if-changed" &&
      (await readlink(path, { encoding: "buffer" })).equals(target)
    ) {
      if (sameMetadata(existing, node, this.#owner, false))
        return this.#tally.unchanged(path, node, components);
      if (!this.#dry) await this.#applyLinkMetadata(path, node);
      return this.#tally.done(path, node, components, "update-metadata");
    }
    if (!this.#dry) {
      const temp = tempPath(dir);
      await symlink(target, temp);
      await this.#place(temp, path, existing, () => this.#applyLinkMetadata(temp, node, path));
    }
    this.#tally.done(path, node, components, existing ? "replace" : "create");
  }

  /** Finishes a temporary entry (`prepare`), then moves it into place over whatever is there; removes it on failure. */
  async #place(
    temp: Buffer,
    path: Buffer,
    existing: BigIntStats | undefined,
    prepare: () => Promise<void>,
  ): Promise<void> {
    try {
      await prepare();
      if (existing?.isDirectory()) await rm(path, { recursive: true, force: true });
      await rename(temp, path);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
  }

  async #applyLinkMetadata(path: Buffer, node: TreeNode, shownPath = path): Promise<void> {
    if (this.#owner) await this.#soft(shownPath, "owner", () => lchown(path, node.uid, node.gid));
    const t = mtimeSeconds(node);
    await this.#soft(shownPath, "mtime", () => lutimes(path, t, t));
  }

  // ---- FIFOs and devices ----

  async #restoreSpecial(path: Buffer, node: TreeNode, components: Buffer[]): Promise<void> {
    if (node.type !== "fifo" && !this.#isRoot) {
      this.#tally.issue(path, "device files can only be created by root; not restored");
      return this.#tally.skip(path, node, components, "needs root");
    }
    const existing = await lstatMaybe(path);
    if (existing && this.#overwrite === "never") return this.#tally.skip(path, node, components, "exists");
    if (existing && this.#overwrite === "if-changed" && sameSpecial(existing, node)) {
      if (sameMetadata(existing, node, this.#owner)) return this.#tally.unchanged(path, node, components);
      if (!this.#dry) await this.#applySpecialMetadata(path, node);
      return this.#tally.done(path, node, components, "update-metadata");
    }
    if (!this.#dry) {
      // mkfifo/mknod take text paths: create under a plain name in the target, then rename into place.
      const staging = `${this.#staging}/${TEMP_PREFIX}${randomBytes(8).toString("hex")}`;
      try {
        await makeSpecial(staging, node);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stderr?: string };
        this.#tally.issue(path, `cannot create ${node.type}: ${(e.stderr || e.message).trim()}`);
        return this.#tally.skip(path, node, components, "cannot be created");
      }
      const temp = Buffer.from(staging);
      await this.#place(temp, path, existing, () => this.#applySpecialMetadata(temp, node, path));
    }
    this.#tally.done(path, node, components, existing ? "replace" : "create");
  }

  /** Path-based, since opening a FIFO would block: lchown and lutimes do not follow links; chmod acts on a node just checked or created. */
  async #applySpecialMetadata(path: Buffer, node: TreeNode, shownPath = path): Promise<void> {
    if (this.#owner) await this.#soft(shownPath, "owner", () => lchown(path, node.uid, node.gid));
    await this.#soft(shownPath, "mode", () => chmod(path, node.mode & 0o7777));
    const t = mtimeSeconds(node);
    await this.#soft(shownPath, "mtime", () => lutimes(path, t, t));
  }

  // ---- metadata, bookkeeping ----

  /** Writes a small file on a worker; one the batch could not restore is written here from any copy of its blobs. */
  async #writeSmall(temp: Buffer | undefined, path: Buffer, node: TreeNode): Promise<void> {
    const chown = this.#owner && !(node.uid === OWN_UID && node.gid === OWN_GID);
    const refused = await this.#batcher.write({ temp, path, node, chown });
    if (refused) {
      for (const { what, message } of refused) this.#tally.issue(path, `cannot set ${what}: ${message}`);
    } else {
      await this.#writeSmallHere(temp, path, node, chown);
    }
    this.#tally.bytes(node.size);
  }

  async #writeSmallHere(
    temp: Buffer | undefined,
    path: Buffer,
    node: TreeNode,
    chown: boolean,
  ): Promise<void> {
    const pieces = [];
    for await (const piece of readContent(this.repo, node, this.#zeros)) pieces.push(piece);
    writeSmallFile({
      temp,
      path,
      node,
      pieces,
      chown,
      onRefused: (what, err) => this.#tally.issue(path, `cannot set ${what}: ${(err as Error).message}`),
    });
  }

  /** `created`: this restore just created the file, so it is owned by this process already. */
  async #applyMetadata(fh: FileHandle, node: TreeNode, path: Buffer, created = false): Promise<void> {
    const ownedAlready = created && node.uid === OWN_UID && node.gid === OWN_GID;
    if (this.#owner && !ownedAlready) await this.#soft(path, "owner", () => fh.chown(node.uid, node.gid));
    await this.#soft(path, "mode", () => fh.chmod(node.mode & 0o7777));
    const t = mtimeSeconds(node);
    await this.#soft(path, "mtime", () => fh.utimes(t, t));
  }

  async #soft(path: Buffer, what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (!isMetadataRefusal(err)) throw err;
      this.#tally.issue(path, `cannot set ${what}: ${(err as Error).message}`);
    }
  }
}

/** Waits for every task; fails with the first failure (in order) once all have settled. */
async function settleAll(tasks: readonly Promise<void>[]): Promise<void> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

function hardlinkKey(node: TreeNode): string | undefined {
  return node.links > 1 && node.inode !== "0" ? `${node.dev}:${node.inode}` : undefined;
}

function sameSpecial(s: BigIntStats, node: TreeNode): boolean {
  if (node.type === "fifo") return s.isFIFO();
  const kindMatches = node.type === "chardev" ? s.isCharacterDevice() : s.isBlockDevice();
  return kindMatches && Number(s.rdev) === (node.rdev ?? 0);
}

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}
