import type { DeltaChoice } from "./archiver/delta-bases.js";
import { compressBlob } from "./compression/codec.js";
import { sealParts } from "./crypto/envelope.js";
import { RepoError } from "./errors.js";
import { encodeIndexFile } from "./index/index-file.js";
import type { BlobType, PackEntry } from "./pack/pack-format.js";
import { PackWriter, type WrittenPack } from "./pack/pack-writer.js";
import type { Repository } from "./repository.js";

export interface SavedBlob {
  id: string;
  /** Bytes this call added to the repository (0 when the blob was already stored). */
  added: number;
  /** Whether it was stored delta-coded (§5.1). */
  delta?: boolean;
}

export interface SessionStats {
  blobsAdded: number;
  bytesAdded: number;
  packsWritten: number;
}

// One pack is written while the next fills. On a backend that stages files
// a filling pack is on disk already and a write is its header and fsync;
// otherwise each holds up to packSize bytes in memory.
const MAX_WRITES_IN_FLIGHT = 1;

export interface WriteSessionOptions {
  /**
   * Written packs holding this many blobs get their index at once, not at
   * `flush`: a backup of many files then never encodes one large index in
   * memory, and packs written before a crash are indexed already.
   */
  indexBatchBlobs?: number;
}

const INDEX_BATCH_BLOBS = 8192;

/**
 * One writer's session (§8): blobs go into packs, packs are saved as they
 * fill, an index is saved for every batch of written packs, and `flush`
 * saves the remaining packs and then an index naming the rest. Nothing a
 * session writes is referenced until the caller saves a snapshot after
 * `flush` resolved.
 */
export class WriteSession {
  readonly #writers: Record<BlobType, PackWriter>;
  readonly #pending = new Set<string>();
  readonly #written: WrittenPack[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #adopted: { id: string; entries: PackEntry[] }[] = [];
  readonly stats: SessionStats = { blobsAdded: 0, bytesAdded: 0, packsWritten: 0 };
  readonly #indexBatchBlobs: number;
  #lastIndex: string | undefined;
  #failure: unknown;

  constructor(
    private readonly repo: Repository,
    options: WriteSessionOptions = {},
  ) {
    this.#writers = { data: this.#newPack(), tree: this.#newPack() };
    this.#indexBatchBlobs = options.indexBatchBlobs ?? INDEX_BATCH_BLOBS;
  }

  /** Adopts packs a crashed writer left unindexed, so their blobs are reused and indexed by this session. */
  async adoptUnindexedPacks(): Promise<number> {
    const orphans = await this.repo.findUnindexedPacks();
    for (const o of orphans) {
      this.repo.index.addPack(o.id, o.entries);
      this.#adopted.push(o);
    }
    return orphans.length;
  }

  has(id: string): boolean {
    return this.#pending.has(id) || this.repo.index.has(id);
  }

  /**
   * Stores a data blob through the worker-thread encoder: the id is computed
   * off the main thread, and a duplicate is dropped before compression. A
   * new blob is delta-coded when `delta` names bases for it (§5.1).
   * `data` may be moved to the worker (it is unusable afterwards).
   */
  async saveDataBlob(data: Uint8Array, delta?: DeltaChoice): Promise<SavedBlob> {
    if (this.#failure) throw this.#failure;
    const encoder = this.repo.workers();
    const rawLength = data.length;
    const { id, ticket } = await encoder.identify(data, true);
    const dictionary = await delta?.choose(id, this.has(id));
    // Checked again after the wait: the same blob may have come in meanwhile.
    if (this.has(id)) {
      encoder.drop(ticket);
      return { id, added: 0 };
    }
    this.#pending.add(id);
    if (!dictionary) {
      const envelope = await encoder.seal(ticket);
      return { id, added: await this.#addEnvelope("data", id, rawLength, [envelope]) };
    }
    const sealed = await encoder.sealDelta(ticket, dictionary);
    const bases = sealed.delta ? dictionary.bases : undefined;
    const added = await this.#addEnvelope("data", id, rawLength, [sealed.envelope], bases);
    return { id, added, delta: sealed.delta };
  }

  /**
   * Stores a small blob (a whole small file): its id is computed here, which
   * costs less than a round trip to a worker, and only a new blob is sent
   * there to be compressed and encrypted. `data` may be moved to the worker.
   */
  async saveSmallBlob(data: Uint8Array): Promise<SavedBlob> {
    if (this.#failure) throw this.#failure;
    const id = this.repo.blobId(data);
    if (this.has(id)) return { id, added: 0 };
    this.#pending.add(id);
    const rawLength = data.length;
    const envelope = await this.repo.workers().sealData(id, data);
    return { id, added: await this.#addEnvelope("data", id, rawLength, [envelope]) };
  }

  /**
   * Adds an envelope to the open pack of its type, rotating a full pack;
   * resolves once the envelope is on disk (staged) or held by the pack.
   */
  async #addEnvelope(
    type: BlobType,
    id: string,
    rawLength: number,
    envelope: Buffer[],
    bases?: readonly string[],
  ): Promise<number> {
    const writer = this.#writers[type];
    const before = writer.size;
    const appended = writer.add({ type, id, rawLength, bases }, envelope);
    const added = writer.size - before;
    this.stats.blobsAdded++;
    this.stats.bytesAdded += added;
    // Checked before waiting: concurrent adds must not rotate the same pack twice.
    const rotated = writer.size >= this.repo.params.packSize ? this.#rotate(type) : undefined;
    await appended;
    await rotated;
    return added;
  }

  /** Stores a blob unless the repository or this session already has it. */
  async saveBlob(type: BlobType, data: Uint8Array, knownId?: string): Promise<SavedBlob> {
    if (this.#failure) throw this.#failure;
    const id = knownId ?? this.repo.blobId(data);
    if (this.has(id)) return { id, added: 0 };
    this.#pending.add(id);
    const envelope = sealParts(
      this.repo.key.encKey,
      compressBlob(data, this.repo.params.compression),
      Buffer.from(id, "hex"),
    );
    return { id, added: await this.#addEnvelope(type, id, data.length, envelope) };
  }

  /**
   * Adds a blob envelope sealed earlier, as is (prune's repacking). Unlike
   * saveBlob it stores a blob the index already has: its old pack is about
   * to be deleted. The caller verifies the envelope first.
   */
  async copyBlob(entry: Omit<PackEntry, "offset" | "length">, envelope: Buffer): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#pending.has(entry.id)) return;
    this.#pending.add(entry.id);
    await this.#addEnvelope(entry.type, entry.id, entry.rawLength, [envelope], entry.bases);
  }

  async #rotate(type: BlobType): Promise<void> {
    const full = this.#writers[type];
    this.#writers[type] = this.#newPack();
    while (this.#inFlight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(this.#inFlight);
    this.#track(
      full.write().then((pack) => {
        this.#written.push(pack);
        this.stats.packsWritten++;
        const unindexed = this.#written.reduce((n, p) => n + p.entries.length, 0);
        if (unindexed >= this.#indexBatchBlobs) this.#track(this.#saveIndex());
      }),
    );
  }

  /** Keeps `work` in flight until it settles; its failure fails the session. */
  #track(work: Promise<unknown>): void {
    const tracked: Promise<void> = work.then(
      () => {
        this.#inFlight.delete(tracked);
      },
      (err: unknown) => {
        this.#failure ??= err;
        this.#inFlight.delete(tracked);
      },
    );
    this.#inFlight.add(tracked);
  }

  /** Saves an index of the packs written (and adopted) since the last one. */
  async #saveIndex(): Promise<void> {
    const packs = [...this.#adopted, ...this.#written.map((p) => ({ id: p.id, entries: p.entries }))];
    this.#adopted.length = 0;
    this.#written.length = 0;
    if (packs.length === 0) return;
    const name = await this.repo.saveEncodedJson("index", encodeIndexFile({ supersedes: [], packs }));
    this.repo.addWrittenIndex(name, packs);
    for (const p of packs) for (const e of p.entries) this.#pending.delete(e.id);
    this.#lastIndex = name;
  }

  /**
   * Gives up on the session: the packs being filled are discarded (a staged
   * one's temporary file removed); packs already written stay, unreferenced,
   * for a later session to adopt or prune to remove.
   */
  async abort(): Promise<void> {
    this.#failure ??= new RepoError("invalid_argument", "the write session was aborted; start a new one");
    await Promise.all([this.#writers.data.discard(), this.#writers.tree.discard()]);
    await Promise.allSettled(this.#inFlight);
  }

  #newPack(): PackWriter {
    return new PackWriter(this.repo.key.encKey, this.repo.backend);
  }

  /**
   * Saves open packs, waits for all pack and index writes, then indexes the
   * packs not indexed yet; returns the name of the session's last index
   * (undefined when it wrote nothing).
   */
  async flush(): Promise<string | undefined> {
    for (const type of ["data", "tree"] as const) if (this.#writers[type].count > 0) await this.#rotate(type);
    // A pack write that ends may start an index write: wait until nothing is left.
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
    await this.#saveIndex();
    this.#pending.clear();
    return this.#lastIndex;
  }
}
