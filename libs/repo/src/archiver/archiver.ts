import { type BigIntStats, lstatSync, readdirSync } from "node:fs";
import { lstat, readlink, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { RepoError } from "../errors.js";
import { acquireLock } from "../lock/acquire-lock.js";
import type { LockHandle } from "../lock/lock-handle.js";
import type { Repository } from "../repository.js";
import { type Snapshot, type SnapshotEntry, saveSnapshot } from "../snapshot/snapshot.js";
import { joinPath, loadTree, saveTree, splitPath } from "../tree/tree-io.js";
import {
  encodeName,
  encodeTarget,
  nodeNameBytes,
  nodeNameKey,
  type Tree,
  type TreeNode,
} from "../tree/tree-node.js";
import type { WriteSession } from "../write-session.js";
import { ContentSaver } from "./content-saver.js";
import { DeltaBases, DICTIONARY_BYTES } from "./delta-bases.js";
import { Budget } from "./limiter.js";
import { metadataNode, nodeType, sameStats, unchanged } from "./node-metadata.js";
import { ParentTrees } from "./parent-trees.js";
import { PathFilter } from "./path-filter.js";
import { type BackupProgress, type ProgressListener, throttle } from "./progress.js";
import { TreeAssembler } from "./tree-assembler.js";

export const PROGRAM = "pwdr 0.1.0";
/**
 * Files read at once, weighed by what they can buffer: up to 64 small
 * files, or two or three large ones (each holds up to a read plus a chunk).
 */
const FILES_IN_FLIGHT = 16 * 1024 * 1024;
function fileWeight(size: bigint): number {
  return Math.max(256 * 1024, Math.min(Number(size), 12 * 1024 * 1024));
}

export interface BackupOptions {
  host?: string;
  tags?: string[];
  source?: { kind: string; name: string };
  /** Files unchanged since this snapshot (size, mtime, ctime, inode) are not read again. */
  parent?: SnapshotEntry;
  exclude?: string[];
  include?: string[];
  /** Do not descend into directories on another file system than the backed-up path. */
  oneFileSystem?: boolean;
  meta?: Record<string, unknown>;
  onProgress?: ProgressListener;
  now?: () => Date;
  /** How long to wait for an exclusive lock (a prune) to go away; 0 fails at once with repo_locked. */
  lockWaitMs?: number;
}

/** Something that could not be backed up; the snapshot is written without it. */
export interface BackupWarning {
  path: string;
  message: string;
}

export interface BackupResult {
  id: string;
  snapshot: Snapshot;
  warnings: BackupWarning[];
}

type StreamNodeOptions = { mode?: number; mtime?: Date };

/** A directory the walk has passed; its node once its files are stored (wrapped, so awaiting the start does not wait for that). */
type StartedDir = { node: Promise<TreeNode> };

interface ArchivedDir {
  nodes: TreeNode[];
  /** The nodes are the parent snapshot's own node objects for this directory, all of them, in order. */
  asBefore: boolean;
}

/**
 * One backup run: add file trees and byte streams, then `finish` writes
 * packs → index → snapshot (§8). Until `finish` resolves nothing references
 * the new data, so a crash or `abort` leaves the repository valid.
 */
export class Backup {
  readonly #session: WriteSession;
  readonly #saver: ContentSaver;
  readonly #root = new TreeAssembler();
  readonly #paths: string[] = [];
  readonly #warnings: BackupWarning[] = [];
  readonly #progress: ReturnType<typeof throttle>;
  readonly #state: BackupProgress = {
    phase: "backup",
    files: 0,
    dirs: 0,
    bytesRead: 0,
    bytesAdded: 0,
    filesUnchanged: 0,
  };
  readonly #started: number;
  #unchangedBytes = 0;
  readonly #files = new Budget(FILES_IN_FLIGHT);
  readonly #parentTrees: ParentTrees;
  readonly #dictionaries = new Budget(DICTIONARY_BYTES);
  readonly #parentPathTrees = new Map<string, Promise<Tree | undefined>>();
  /** The first file failure that is the repository's (a RepoError), not the file's: no new work starts after it. */
  #fatal: unknown;
  readonly #now: () => Date;
  #filter: PathFilter;

  private constructor(
    private readonly repo: Repository,
    private readonly options: BackupOptions,
    private readonly lock: LockHandle,
  ) {
    this.#session = repo.startWrite();
    this.#parentTrees = new ParentTrees(repo);
    this.#saver = new ContentSaver(
      this.#session,
      repo.chunker(),
      (read) => {
        this.#state.bytesRead += read;
        this.#state.bytesAdded = this.#session.stats.bytesAdded;
        this.#progress.emit(this.#state);
      },
      repo.params.chunker.minSize,
    );
    this.#progress = throttle(options.onProgress);
    this.#filter = new PathFilter(options.exclude, options.include);
    this.#now = options.now ?? (() => new Date());
    this.#started = performance.now();
  }

  /**
   * Takes a shared lock (prune must not delete what this backup will
   * reference), reads the current indexes afresh and adopts packs a crashed
   * writer left behind, so their blobs are reused.
   */
  static async start(repo: Repository, options: BackupOptions = {}): Promise<Backup> {
    const lock = await acquireLock(repo, {
      exclusive: false,
      operation: "backup",
      waitMs: options.lockWaitMs ?? 0,
    });
    try {
      await repo.reloadIndex();
      const backup = new Backup(repo, options, lock);
      await backup.#session.adoptUnindexedPacks();
      return backup;
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** Gives up: releases the lock and writes no snapshot; stored packs are reused or pruned later. */
  async abort(): Promise<void> {
    try {
      await this.#session.abort();
    } finally {
      await this.lock.release();
    }
  }

  get warnings(): readonly BackupWarning[] {
    return this.#warnings;
  }

  /** Where the backup is now (what `onProgress` reports at most a few times a second). */
  get progress(): BackupProgress {
    return { ...this.#state };
  }

  /** Backs up a file or directory tree at its absolute path. */
  async addPath(path: string): Promise<void> {
    const abs = resolve(path);
    const components = splitPath(abs);
    const last = components.at(-1);
    const stats = await lstat(abs, { bigint: true }).catch((err: NodeJS.ErrnoException) => {
      throw new RepoError(
        "invalid_argument",
        `cannot back up ${abs}: ${err.code === "ENOENT" ? "it does not exist" : err.message}`,
        { cause: err },
      );
    });
    const parentDir = await this.#parentDirMeta(components);
    const parentNode = await this.#parentNodeAt(components);
    const node = last ? await this.#archive(Buffer.from(abs), last, stats, parentNode, stats.dev) : undefined;
    this.#paths.push(abs);
    if (!last) {
      // "/" itself: its entries become the root's entries.
      const { nodes } = await (await this.#walkDir(Buffer.from("/"), parentNode, stats.dev)).done;
      for (const n of nodes) this.#root.add(nodeNameBytes(n), n);
      return;
    }
    if (node) parentDir.add(last, node);
  }

  /**
   * Stores a byte stream (e.g. pg_dump's stdout) as a file at `virtualPath`
   * inside the snapshot. Several calls may run at once (one per concurrent
   * dump): they share the in-flight byte budget and the blob dedup.
   */
  async addStream(
    virtualPath: string,
    source: AsyncIterable<Uint8Array>,
    options: StreamNodeOptions = {},
  ): Promise<TreeNode> {
    const components = splitPath(virtualPath);
    const last = components.at(-1);
    if (!last) throw new RepoError("invalid_argument", `"${virtualPath}" is not a file path`);
    const parent = await this.#parentNodeAt(components);
    const saved = await this.#saver.saveStream(source, this.#deltaBases(parent));
    const now = options.mtime ?? this.#now();
    const ns = (BigInt(now.getTime()) * 1_000_000n).toString();
    const node: TreeNode = {
      ...encodeName(last),
      type: "file",
      mode: options.mode ?? 0o600,
      uid: process.getuid?.() ?? 0,
      gid: process.getgid?.() ?? 0,
      mtimeNs: ns,
      ctimeNs: ns,
      size: saved.size,
      inode: "0",
      dev: "0",
      links: 1,
      content: saved.content,
    };
    this.#state.files++;
    const dir = this.#root.dir(components.slice(0, -1), () => virtualDirNode(ns));
    dir.add(last, node);
    this.#paths.push(virtualPath.startsWith("/") ? virtualPath : `/${virtualPath}`);
    return node;
  }

  /** Flushes packs and the index, then writes the snapshot; the lock is released either way. */
  async finish(): Promise<BackupResult> {
    try {
      return await this.#finish();
    } finally {
      await this.lock.release();
    }
  }

  async #finish(): Promise<BackupResult> {
    this.#progress.flush({ ...this.#state, phase: "flush" });
    const tree = await this.#root.save(this.#session);
    await this.#session.flush();
    const snapshot: Snapshot = {
      time: this.#now().toISOString(),
      host: this.options.host ?? hostname(),
      paths: [...this.#paths].sort(),
      tags: [...(this.options.tags ?? [])].sort(),
      tree,
      program: PROGRAM,
      summary: {
        files: this.#state.files,
        dirs: this.#state.dirs,
        bytes: this.#state.bytesRead + this.#unchangedBytes,
        addedBytes: this.#session.stats.bytesAdded,
        durationMs: Math.round(performance.now() - this.#started),
      },
    };
    if (this.options.parent) snapshot.parent = this.options.parent.id;
    if (this.options.source) snapshot.source = this.options.source;
    if (this.options.meta) snapshot.meta = this.options.meta;
    // A lock lost meanwhile (removed as stale by someone) means prune may
    // have run: writing the snapshot now could reference deleted data.
    await this.lock.refresh();
    const id = await saveSnapshot(this.repo, snapshot);
    this.#progress.flush({ ...this.#state, phase: "done", bytesAdded: this.#session.stats.bytesAdded });
    return { id, snapshot, warnings: this.#warnings };
  }

  async #parentDirMeta(components: readonly Buffer[]): Promise<TreeAssembler> {
    const dirs = components.slice(0, -1);
    const metas: TreeNode[] = [];
    for (let depth = 0; depth < dirs.length; depth++) {
      const path = Buffer.concat(dirs.slice(0, depth + 1).flatMap((c) => [Buffer.from("/"), c]));
      // stat, not lstat: a parent reached through a symlink is stored as the
      // directory it leads to, since that is what the path's content is under.
      const s = await stat(path, { bigint: true });
      metas.push(metadataNode(encodeName(dirs[depth] as Buffer), "dir", s));
    }
    return this.#root.dir(dirs, (depth) => metas[depth] as TreeNode);
  }

  /** Delta bases (§5.1) from the parent snapshot's file at the same path, if it had one. */
  #deltaBases(parent: TreeNode | undefined): DeltaBases | undefined {
    return parent?.type === "file"
      ? DeltaBases.for(this.repo, parent.content, this.#dictionaries)
      : undefined;
  }

  /**
   * A parent tree on the way to an added path, read once per backup: every
   * stream of a source (a dump per table) looks its path up from the root.
   */
  #parentPathTree(id: string): Promise<Tree | undefined> {
    let tree = this.#parentPathTrees.get(id);
    if (!tree) {
      tree = loadTree(this.repo, id).catch(() => undefined);
      this.#parentPathTrees.set(id, tree);
    }
    return tree;
  }

  async #parentNodeAt(components: readonly Buffer[]): Promise<TreeNode | undefined> {
    if (!this.options.parent) return undefined;
    let treeId: string | undefined = this.options.parent.tree;
    let node: TreeNode | undefined;
    for (const part of components) {
      if (!treeId) return undefined;
      const tree = await this.#parentPathTree(treeId);
      node = tree?.nodes.find((n: TreeNode) => nodeNameBytes(n).equals(part));
      if (!node) return undefined;
      treeId = node.type === "dir" ? node.subtree : undefined;
    }
    if (components.length === 0) return { type: "dir", subtree: this.options.parent.tree } as TreeNode;
    return node;
  }

  #warn(path: Buffer, err: unknown): void {
    this.#warnings.push({ path: path.toString("utf8"), message: (err as Error).message });
  }

  async #archive(
    path: Buffer,
    name: Buffer,
    s: BigIntStats,
    parent: TreeNode | undefined,
    rootDev: bigint,
  ): Promise<TreeNode | undefined> {
    const type = nodeType(s);
    if (!type) return undefined;
    const node = metadataNode(encodeName(name), type, s);
    this.#state.currentPath = path.toString("utf8");
    if (type === "file") return this.#archiveFile(path, node, parent);
    if (type === "symlink") return { ...node, ...encodeTarget(await readlink(path, { encoding: "buffer" })) };
    if (type === "dir") return (await this.#startDir(path, node, s, parent, rootDev)).node;
    return node;
  }

  /**
   * Walks a directory now (its subdirectories too, depth first) and starts
   * reading its files; its node comes once they are stored. The walk goes on
   * meanwhile: waiting for each directory's last files before the next one
   * drained the pipeline hundreds of times in a tree of small files.
   */
  async #startDir(
    path: Buffer,
    node: TreeNode,
    s: BigIntStats,
    parent: TreeNode | undefined,
    rootDev: bigint,
  ): Promise<StartedDir> {
    this.#state.dirs++;
    if (this.options.oneFileSystem && s.dev !== rootDev) {
      return { node: this.#emptyTree().then((subtree) => ({ ...node, subtree })) };
    }
    const previous = parent?.type === "dir" ? parent : undefined;
    const { done } = await this.#walkDir(path, previous, rootDev);
    const finished = done.then(async ({ nodes, asBefore }): Promise<TreeNode> => {
      // A directory whose entries are all the parent's own nodes has the parent's tree: no need to encode and hash it again.
      if (asBefore && previous?.subtree && this.#session.has(previous.subtree)) {
        return sameStats(previous, s) ? previous : { ...node, subtree: previous.subtree };
      }
      return { ...node, subtree: (await saveTree(this.#session, { nodes })).id };
    });
    // Awaited by the parent directory; a failure meanwhile is not unhandled.
    finished.catch(() => {});
    return { node: finished };
  }

  /**
   * The synchronous fast path for a file the parent snapshot has unchanged:
   * its node (null when filtered out), or undefined when it must be read.
   */
  #reuseUnchanged(
    path: Buffer,
    name: Buffer,
    s: BigIntStats,
    parent: TreeNode | undefined,
  ): TreeNode | null | undefined {
    if (parent?.type !== "file") return undefined;
    const same = sameStats(parent, s);
    const node = same ? parent : metadataNode(encodeName(name), "file", s);
    if (!unchanged(node, parent) || !parent.content?.every((id) => this.#session.has(id))) return undefined;
    if (this.#filter.hasIncludes && !this.#filter.includesFile(path.toString("utf8"))) return null;
    this.#state.files++;
    this.#state.filesUnchanged++;
    this.#unchangedBytes += node.size;
    this.#progress.emit(this.#state);
    return same ? parent : { ...node, content: parent.content };
  }

  async #archiveFile(
    path: Buffer,
    node: TreeNode,
    parent: TreeNode | undefined,
  ): Promise<TreeNode | undefined> {
    const pathText = path.toString("utf8");
    if (!this.#filter.includesFile(pathText)) return undefined;
    this.#state.files++;
    if (unchanged(node, parent) && parent?.content?.every((id) => this.#session.has(id))) {
      this.#state.filesUnchanged++;
      this.#unchangedBytes += node.size;
      this.#progress.emit(this.#state);
      return { ...node, content: parent.content };
    }
    try {
      const saved = await this.#saver.saveFile(path, node.size, this.#deltaBases(parent));
      return { ...node, size: saved.size, content: saved.content };
    } catch (err) {
      this.#state.files--;
      if (err instanceof RepoError) throw err;
      this.#warn(path, err);
      return undefined;
    }
  }

  /**
   * Walks a directory: lists and stats its entries, starts reading its
   * files (bounded by #files) and walks its subdirectories, depth first.
   * `done` resolves with its entries once they are all stored; `asBefore`
   * when they are exactly the parent snapshot's nodes of it, in order.
   */
  async #walkDir(
    path: Buffer,
    parent: TreeNode | undefined,
    rootDev: bigint,
  ): Promise<{ done: Promise<ArchivedDir> }> {
    let names: Buffer[];
    try {
      names = readdirSync(path, { encoding: "buffer" }).sort(Buffer.compare);
    } catch (err) {
      this.#warn(path, err);
      return { done: Promise.resolve({ nodes: [], asBefore: false }) };
    }
    const { previous, byName: parentNodes } = await this.#parentEntries(parent);
    const nodes: (TreeNode | undefined | Promise<TreeNode | undefined>)[] = [];
    let pending = false;
    for (const name of names) {
      // A file that failed for good (the repository, not the file) ends the walk.
      if (this.#fatal) throw this.#fatal;
      const childPath = joinPath(path, name);
      if (this.#filter.hasExcludes && this.#filter.excludes(childPath.toString("utf8"))) continue;
      const s = this.#lstat(childPath);
      if (!s) continue;
      const prev = parentNodes.get(name.toString("latin1"));
      if (s.isFile()) {
        const reused = this.#reuseUnchanged(childPath, name, s, prev);
        if (reused !== undefined) {
          nodes.push(reused ?? undefined);
          continue;
        }
        nodes.push((await this.#startFile(childPath, name, s, prev, rootDev)).node);
        pending = true;
      } else if (s.isDirectory()) {
        const dir = metadataNode(encodeName(name), "dir", s);
        nodes.push((await this.#startDir(childPath, dir, s, prev, rootDev)).node);
        pending = true;
      } else {
        nodes.push(await this.#archive(childPath, name, s, prev, rootDev));
      }
    }
    const settle = (all: readonly (TreeNode | undefined)[]): ArchivedDir => {
      const archived = all.filter((n): n is TreeNode => n !== undefined);
      this.#parentTrees.leave(previous);
      const asBefore =
        previous !== undefined &&
        archived.length === previous.length &&
        archived.every((n, i) => n === previous[i]);
      return { nodes: archived, asBefore };
    };
    // A directory of unchanged files is settled at once, without a promise per entry.
    const done = pending
      ? Promise.all(nodes).then(settle)
      : Promise.resolve(settle(nodes as (TreeNode | undefined)[]));
    done.catch(() => {});
    return { done };
  }

  /**
   * Synchronous lstat: one direct system call, where the promise version
   * costs a thread-pool round trip; for a tree of mostly unchanged small
   * files this is most of the backup's time.
   */
  #lstat(path: Buffer): BigIntStats | undefined {
    try {
      return lstatSync(path, { bigint: true });
    } catch (err) {
      this.#warn(path, err);
      return undefined;
    }
  }

  /** Starts reading a file once the in-flight budget allows; its node comes once it is stored (wrapped, as StartedDir). */
  async #startFile(
    path: Buffer,
    name: Buffer,
    s: BigIntStats,
    prev: TreeNode | undefined,
    rootDev: bigint,
  ): Promise<{ node: Promise<TreeNode | undefined> }> {
    const weight = fileWeight(s.size);
    await this.#files.acquire(weight);
    const node = this.#archive(path, name, s, prev, rootDev).finally(() => this.#files.release(weight));
    node.catch((err: unknown) => {
      this.#fatal ??= err;
    });
    return { node };
  }

  /** The parent snapshot's nodes of a directory, in tree order and by raw name (latin1). */
  async #parentEntries(
    parent: TreeNode | undefined,
  ): Promise<{ previous: TreeNode[] | undefined; byName: Map<string, TreeNode> }> {
    const byName = new Map<string, TreeNode>();
    if (!parent?.subtree) return { previous: undefined, byName };
    const tree = await this.#parentTrees.take(parent.subtree);
    for (const n of tree?.nodes ?? []) byName.set(nodeNameKey(n), n);
    return { previous: tree?.nodes, byName };
  }

  async #emptyTree(): Promise<string> {
    return (await saveTree(this.#session, { nodes: [] })).id;
  }
}

function virtualDirNode(ns: string): TreeNode {
  return {
    type: "dir",
    mode: 0o700,
    uid: 0,
    gid: 0,
    mtimeNs: ns,
    ctimeNs: ns,
    size: 0,
    inode: "0",
    dev: "0",
    links: 1,
  };
}
