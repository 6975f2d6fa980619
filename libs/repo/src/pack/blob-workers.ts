import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type CodecName, DELTA_PARAMS, type DeltaDictionary, ZSTD_LEVEL } from "../compression/codec.js";
import type { MasterKey } from "../crypto/master-key.js";
import { RepoError } from "../errors.js";

const WORKER_URL = new URL("../../worker/blob-worker.mjs", import.meta.url);

/** A blob handed to a worker, waiting for the decision to store or drop it. */
export interface BlobTicket {
  readonly worker: number;
  readonly seq: number;
}

/**
 * A small file for a worker to restore (worker/write-files.mjs). Paths are
 * latin1 strings of the raw bytes; each blob is a slice of one of the
 * message's `ranges` (pack bytes the main thread read).
 */
export interface FileToWrite {
  path: string;
  /** Written here, then renamed to `path`; without it the file is written at `path`. */
  temp?: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  chown: boolean;
  /** Seconds, as utimes takes them. */
  mtime: number;
  blobs: { id: string; rawLength: number; range: number; offset: number; length: number }[];
}

/**
 * Per file: written (with the metadata changes the file system refused), a
 * blob that could not be decoded (nothing created), or a system error
 * writing it (nothing left of it).
 */
export type FileWriteResult =
  | { issues: { what: string; message: string }[] }
  | { blobError: { code: string; message: string } }
  | { fsError: { code: string; syscall?: string; errno?: number; message: string } };

interface Reply {
  id?: string;
  envelope?: ArrayBuffer;
  delta?: boolean;
  envelopes?: ArrayBuffer[];
  data?: ArrayBuffer;
  results?: FileWriteResult[];
  error?: { code: string; message: string };
}

interface Waiter<T = Reply> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/** Small blobs waiting to go to a worker together. */
interface SealBatch {
  ids: string[];
  data: ArrayBuffer[];
  bytes: number;
  waiters: Waiter<Buffer>[];
}

// A batch goes out when it is this full, or when the main thread has
// nothing else to do (setImmediate): per-message costs on both threads were
// a third of a first backup's main-thread time with one message per small file.
const BATCH_BLOBS = 32;
const BATCH_BYTES = 1024 * 1024;

/**
 * Worker threads for the CPU-heavy half of blob handling, so the main thread
 * only does I/O and chunking. Writing takes two steps per blob (identify,
 * then seal or drop), so a duplicate is recognised by its id before any
 * compression is spent on it; reading decrypts, decompresses and verifies.
 */
export class BlobWorkers {
  readonly #workers: Worker[];
  readonly #waiters: Map<number, Waiter>[];
  #seq = 0;
  #next = 0;
  #failure: unknown;
  #batch: SealBatch | undefined;
  #flushScheduled = false;
  #closed = false;

  constructor(key: MasterKey, codec: CodecName, workers = Math.max(1, availableParallelism())) {
    const workerData = {
      encKey: key.encKey,
      idKey: key.idKey,
      codec,
      level: ZSTD_LEVEL,
      delta: DELTA_PARAMS,
    };
    this.#workers = Array.from({ length: workers }, () => new Worker(WORKER_URL, { workerData }));
    this.#waiters = this.#workers.map(() => new Map());
    this.#workers.forEach((w, i) => {
      w.unref();
      w.on("message", (m: Reply & { seq: number }) => {
        const waiter = this.#waiters[i]?.get(m.seq);
        this.#waiters[i]?.delete(m.seq);
        waiter?.resolve(m);
      });
      w.on("error", (err) => this.#fail(err));
      // Any exit ends the pool, code 0 too (a worker stopped before it
      // started exits with 0): a request to a worker that is gone would
      // otherwise wait forever.
      w.on("exit", (code) => {
        this.#fail(new Error(this.#closed ? "the pool was closed" : `blob worker exited with code ${code}`));
      });
    });
  }

  /**
   * Hands the blob to a worker and returns its id. With `move`, a `data`
   * that owns its whole buffer goes without a copy and is unusable after
   * the call; otherwise the worker gets a copy.
   */
  async identify(data: Uint8Array, move = false): Promise<{ id: string; ticket: BlobTicket }> {
    const worker = this.#next++ % this.#workers.length;
    const seq = this.#seq++;
    const sent = move && ownsBuffer(data) ? (data.buffer as ArrayBuffer) : new Uint8Array(data).buffer;
    const reply = await this.#request(worker, seq, { op: "id", seq, data: sent }, [sent]);
    return { id: reply.id as string, ticket: { worker, seq } };
  }

  /**
   * Compresses and encrypts a blob whose id the caller computed, in a batch
   * with other small blobs; moves `data` to the worker when it owns its
   * whole buffer.
   */
  sealData(id: string, data: Uint8Array): Promise<Buffer> {
    if (this.#failure) return Promise.reject(this.#failure);
    const whole = ownsBuffer(data);
    this.#batch ??= { ids: [], data: [], bytes: 0, waiters: [] };
    const batch = this.#batch;
    batch.ids.push(id);
    batch.data.push(whole ? (data.buffer as ArrayBuffer) : new Uint8Array(data).buffer);
    batch.bytes += data.byteLength;
    const sealed = new Promise<Buffer>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (batch.ids.length >= BATCH_BLOBS || batch.bytes >= BATCH_BYTES) this.#sendBatch();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => this.#sendBatch());
    }
    return sealed;
  }

  #sendBatch(): void {
    this.#flushScheduled = false;
    const batch = this.#batch;
    this.#batch = undefined;
    if (!batch) return;
    const worker = this.#next++ % this.#workers.length;
    const seq = this.#seq++;
    const message = { op: "seal-batch", seq, ids: batch.ids, data: batch.data };
    this.#request(worker, seq, message, [...new Set(batch.data)]).then(
      (reply) => {
        for (const [i, w] of batch.waiters.entries())
          w.resolve(Buffer.from(reply.envelopes?.[i] as ArrayBuffer));
      },
      (err: unknown) => {
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }

  /** Compresses and encrypts an identified blob; returns its envelope. */
  async seal(ticket: BlobTicket): Promise<Buffer> {
    const reply = await this.#request(ticket.worker, ticket.seq, { op: "seal", seq: ticket.seq });
    return Buffer.from(reply.envelope as ArrayBuffer);
  }

  /**
   * Like `seal`, but compresses against `dictionary` (§5.1) when that stores
   * much less; `delta` says whether it did. The dictionary moves to the
   * worker when it owns its whole buffer.
   */
  async sealDelta(
    ticket: BlobTicket,
    dictionary: DeltaDictionary,
  ): Promise<{ envelope: Buffer; delta: boolean }> {
    const { plain } = dictionary;
    const sent = ownsBuffer(plain) ? (plain.buffer as ArrayBuffer) : new Uint8Array(plain).buffer;
    const message = { op: "seal-delta", seq: ticket.seq, bases: dictionary.bases, dictionary: sent };
    const reply = await this.#request(ticket.worker, ticket.seq, message, [sent]);
    return { envelope: Buffer.from(reply.envelope as ArrayBuffer), delta: reply.delta === true };
  }

  /** Decrypts, decompresses and verifies a stored blob; rejects with data_corrupt, never returns wrong bytes. */
  async open(id: string, envelope: Buffer, rawLength: number): Promise<Buffer> {
    const worker = this.#next++ % this.#workers.length;
    const seq = this.#seq++;
    const copy =
      envelope.byteOffset === 0 && envelope.byteLength === envelope.buffer.byteLength
        ? envelope.buffer
        : new Uint8Array(envelope).buffer;
    const reply = await this.#request(worker, seq, { op: "open", seq, id, envelope: copy, rawLength }, [
      copy as ArrayBuffer,
    ]);
    if (reply.error) throw new RepoError(reply.error.code as "data_corrupt", reply.error.message);
    return Buffer.from(reply.data as ArrayBuffer);
  }

  /**
   * Decodes and writes small files on a worker, one message for many files.
   * `ranges` move to the worker when they own their whole buffer and are
   * unusable afterwards.
   */
  async writeFiles(ranges: readonly Buffer[], files: readonly FileToWrite[]): Promise<FileWriteResult[]> {
    const worker = this.#next++ % this.#workers.length;
    const seq = this.#seq++;
    const sent = ranges.map((r) => (ownsBuffer(r) ? (r.buffer as ArrayBuffer) : new Uint8Array(r).buffer));
    const reply = await this.#request(worker, seq, { op: "write-files", seq, ranges: sent, files }, sent);
    return reply.results as FileWriteResult[];
  }

  drop(ticket: BlobTicket): void {
    this.#workers[ticket.worker]?.postMessage({ op: "drop", seq: ticket.seq });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #request(worker: number, seq: number, message: object, transfer: ArrayBuffer[] = []) {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Reply>((resolve, reject) => {
      this.#waiters[worker]?.set(seq, { resolve, reject });
      this.#workers[worker]?.postMessage(message, transfer);
    });
  }

  #fail(err: unknown): void {
    this.#failure ??= new RepoError("backend_unavailable", `blob worker failed: ${(err as Error).message}`, {
      cause: err,
    });
    for (const waiters of this.#waiters) {
      for (const w of waiters.values()) w.reject(this.#failure);
      waiters.clear();
    }
  }
}

/** A view of a whole (non-shared) ArrayBuffer: it can be transferred to a worker as is. */
function ownsBuffer(data: Uint8Array): boolean {
  return (
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
  );
}
