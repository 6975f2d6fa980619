import type { FileHandle } from "../backend/backend.js";
import type { BlobLocation } from "../index/master-index.js";
import type { FileToWrite, FileWriteResult } from "../pack/blob-workers.js";
import { mergeRanges, type PackRange, rangeIndexOf } from "../pack/pack-ranges.js";
import type { Repository } from "../repository.js";
import type { TreeNode } from "../tree/tree-node.js";
import { mtimeSeconds } from "./restore-fs.js";

/** What the batch needs: the index to find blobs, the backend to read packs, the workers to write. */
export type BatchRepository = Pick<Repository, "index" | "backend" | "workers">;

export interface SmallFile {
  /** Written here and renamed to `path`; undefined: written at `path` (a directory this restore created). */
  temp: Buffer | undefined;
  path: Buffer;
  node: TreeNode;
  /** Set the owner (restoring owners, and the file would not have it already). */
  chown: boolean;
}

/** Metadata the file system refused for a written file; undefined: not written, the caller writes it itself. */
export type SmallFileOutcome = { what: string; message: string }[] | undefined;

/** A system error a worker met writing a restored file (ENOSPC, EACCES, …), with Node's code and message. */
export class TargetWriteError extends Error {
  override readonly name = "TargetWriteError";
  readonly code: string;
  readonly syscall: string | undefined;
  readonly errno: number | undefined;

  constructor(error: { code: string; syscall?: string; errno?: number; message: string }) {
    super(error.message);
    this.code = error.code;
    this.syscall = error.syscall;
    this.errno = error.errno;
  }
}

interface Waiting {
  file: SmallFile;
  resolve(outcome: SmallFileOutcome): void;
  reject(err: unknown): void;
}

// A batch goes to a worker when it holds this many files or content bytes,
// or when the main thread has nothing else to do (setImmediate): one message
// and a few pack reads for many files instead of a read and a message each.
const BATCH_FILES = 32;
const BATCH_BYTES = 1024 * 1024;
// Small files' blobs sit side by side in the order they were backed up:
// neighbours within the gap are read in one go.
const MERGE_LIMITS = { gap: 64 * 1024, maxRange: 8 * 1024 * 1024 };

/**
 * Restores small files on the blob workers, in batches: the main thread
 * looks the blobs up, reads the pack ranges holding them (neighbouring blobs
 * in one read), and a worker decrypts, decompresses and verifies them (§3)
 * and creates, writes and finishes the files. A file the batch cannot
 * restore from the first copy of its blobs (not in the index, a pack that
 * cannot be read, a damaged blob) comes back unwritten, so the caller
 * restores it the ordinary way: every copy tried, the usual errors.
 */
export class SmallFileBatcher {
  #waiting: Waiting[] = [];
  #bytes = 0;
  #scheduled = false;

  constructor(private readonly repo: BatchRepository) {}

  write(file: SmallFile): Promise<SmallFileOutcome> {
    const outcome = new Promise<SmallFileOutcome>((resolve, reject) =>
      this.#waiting.push({ file, resolve, reject }),
    );
    this.#bytes += file.node.size;
    if (this.#waiting.length >= BATCH_FILES || this.#bytes >= BATCH_BYTES) this.#flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    return outcome;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#bytes = 0;
    if (batch.length === 0) return;
    this.#send(batch).catch((err: unknown) => {
      for (const w of batch) w.reject(err);
    });
  }

  async #send(batch: Waiting[]): Promise<void> {
    const located = batch.map((w) => locate(this.repo, w.file.node));
    const ready = batch.filter((_, i) => located[i] !== undefined);
    for (const [i, w] of batch.entries()) if (!located[i]) w.resolve(undefined);
    if (ready.length === 0) return;
    const blobs = located.filter((l) => l !== undefined).flat();
    const ranges = mergeRanges(blobs, MERGE_LIMITS);
    let data: Buffer[];
    try {
      data = await Promise.all(ranges.map((r) => this.repo.backend.load(packHandle(r.pack), span(r))));
    } catch {
      // The ordinary path reads the blobs again and reports what is wrong with them.
      for (const w of ready) w.resolve(undefined);
      return;
    }
    const files = batch.flatMap((w, i) => {
      const locs = located[i];
      return locs ? [toMessage(w.file, locs, ranges)] : [];
    });
    const results = await this.repo.workers().writeFiles(data, files);
    for (const [i, w] of ready.entries()) settle(w, results[i] as FileWriteResult);
  }
}

function settle(w: Waiting, result: FileWriteResult): void {
  if ("issues" in result) w.resolve(result.issues);
  else if ("blobError" in result) w.resolve(undefined);
  else w.reject(new TargetWriteError(result.fsError));
}

/**
 * The first whole data copy of each of a file's blobs, in content order;
 * undefined when one has none (not in the index, or only delta-coded, §5.1).
 */
function locate(repo: BatchRepository, node: TreeNode): (BlobLocation & { id: string })[] | undefined {
  const out = [];
  for (const id of node.content ?? []) {
    const loc = repo.index.lookup(id).find((l) => l.type === "data" && l.bases === undefined);
    if (!loc) return undefined;
    out.push({ ...loc, id });
  }
  return out;
}

function toMessage(
  file: SmallFile,
  locs: readonly (BlobLocation & { id: string })[],
  ranges: readonly PackRange[],
) {
  const { node } = file;
  const message: FileToWrite = {
    path: file.path.toString("latin1"),
    size: node.size,
    mode: node.mode & 0o7777,
    uid: node.uid,
    gid: node.gid,
    chown: file.chown,
    mtime: mtimeSeconds(node),
    blobs: locs.map((l) => {
      const range = rangeIndexOf(ranges, l.pack, l.offset);
      const r = ranges[range] as PackRange;
      return { id: l.id, rawLength: l.rawLength, range, offset: l.offset - r.offset, length: l.length };
    }),
  };
  if (file.temp) message.temp = file.temp.toString("latin1");
  return message;
}

function packHandle(pack: string): FileHandle {
  return { type: "data", name: pack };
}

function span(r: PackRange): { offset: number; length: number } {
  return { offset: r.offset, length: r.end - r.offset };
}
