import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { CodecName } from "../compression/codec.js";
import type { MasterKey } from "../crypto/master-key.js";
import { RepoError } from "../errors.js";

const WORKER_URL = new URL("../../worker/blob-worker.mjs", import.meta.url);
const ZSTD_LEVEL = 3;

/** A blob handed to a worker, waiting for the decision to store or drop it. */
export interface BlobTicket {
  readonly worker: number;
  readonly seq: number;
}

interface Waiter {
  resolve(value: { id?: string; envelope?: ArrayBuffer }): void;
  reject(err: unknown): void;
}

/**
 * Hashes, compresses and encrypts blobs on worker threads so the main
 * thread only reads and chunks. Two steps per blob, so a duplicate is
 * recognised by its id before any compression is spent on it.
 */
export class BlobEncoder {
  readonly #workers: Worker[];
  readonly #waiters: Map<number, Waiter>[];
  #seq = 0;
  #next = 0;
  #failure: unknown;

  constructor(key: MasterKey, codec: CodecName, workers = Math.max(1, availableParallelism())) {
    const workerData = { encKey: key.encKey, idKey: key.idKey, codec, level: ZSTD_LEVEL };
    this.#workers = Array.from({ length: workers }, () => new Worker(WORKER_URL, { workerData }));
    this.#waiters = this.#workers.map(() => new Map());
    this.#workers.forEach((w, i) => {
      w.unref();
      w.on("message", (m: { seq: number; id?: string; envelope?: ArrayBuffer }) => {
        const waiter = this.#waiters[i]?.get(m.seq);
        this.#waiters[i]?.delete(m.seq);
        waiter?.resolve(m);
      });
      w.on("error", (err) => this.#fail(err));
      w.on("exit", (code) => {
        if (code !== 0) this.#fail(new Error(`blob encoder worker exited with code ${code}`));
      });
    });
  }

  /** Copies the blob to a worker and returns its id. */
  async identify(data: Uint8Array): Promise<{ id: string; ticket: BlobTicket }> {
    const worker = this.#next++ % this.#workers.length;
    const seq = this.#seq++;
    const copy = new Uint8Array(data).buffer;
    const reply = await this.#request(worker, seq, { op: "id", seq, data: copy }, [copy]);
    return { id: reply.id as string, ticket: { worker, seq } };
  }

  /** Compresses and encrypts an identified blob; returns its envelope. */
  async seal(ticket: BlobTicket): Promise<Buffer> {
    const reply = await this.#request(ticket.worker, ticket.seq, { op: "seal", seq: ticket.seq });
    return Buffer.from(reply.envelope as ArrayBuffer);
  }

  drop(ticket: BlobTicket): void {
    this.#workers[ticket.worker]?.postMessage({ op: "drop", seq: ticket.seq });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #request(worker: number, seq: number, message: object, transfer: ArrayBuffer[] = []) {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<{ id?: string; envelope?: ArrayBuffer }>((resolve, reject) => {
      this.#waiters[worker]?.set(seq, { resolve, reject });
      this.#workers[worker]?.postMessage(message, transfer);
    });
  }

  #fail(err: unknown): void {
    this.#failure ??= new RepoError("backend_unavailable", `blob encoder failed: ${(err as Error).message}`, {
      cause: err,
    });
    for (const waiters of this.#waiters) {
      for (const w of waiters.values()) w.reject(this.#failure);
      waiters.clear();
    }
  }
}
