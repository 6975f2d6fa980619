import type { Backend } from "./backend/backend.js";
import { FastCdc } from "./chunker/fastcdc.js";
import { type DeltaDictionary, decompressBlob } from "./compression/codec.js";
import { open } from "./crypto/envelope.js";
import type { KdfParams } from "./crypto/key-file.js";
import { blobId, generateMasterKey, type MasterKey } from "./crypto/master-key.js";
import { RepoError } from "./errors.js";
import { decodeIndexFile, type IndexFile } from "./index/index-file.js";
import { loadDictionary } from "./index/load-dictionary.js";
import { type BlobLocation, MasterIndex, wholeFirst } from "./index/master-index.js";
import { BlobWorkers } from "./pack/blob-workers.js";
import { CoalescingPackReader } from "./pack/coalescing-pack-reader.js";
import type { BlobType } from "./pack/pack-format.js";
import { readPackHeader } from "./pack/pack-reader.js";
import {
  type ConfigFile,
  DELTA_FORMAT_VERSION,
  defaultParams,
  openParams,
  type RepoParams,
  sealConfig,
} from "./repo-config.js";
import { type JsonFileType, loadJsonFile, saveJsonFile } from "./repo-files.js";
import { addKey } from "./repo-keys.js";
import { type UnlockedRepository, unlockRepository } from "./unlock.js";
import { WriteSession, type WriteSessionOptions } from "./write-session.js";

/** Data blobs at least this big are decrypted on worker threads; smaller ones cost less than the hand-off. */
const OFFLOAD_BYTES = 16 * 1024;

export interface InitOptions {
  params?: Partial<RepoParams>;
  kdf?: KdfParams;
  now?: Date;
}

/**
 * An open repository: its keys and parameters, the loaded index, and blob
 * and file access. Writing happens in a WriteSession (`startWrite`).
 */
export class Repository {
  #index = new MasterIndex();
  #workers: BlobWorkers | undefined;
  #loadedIndexes = new Set<string>();
  readonly #packReader: CoalescingPackReader;

  private constructor(
    readonly backend: Backend,
    readonly key: MasterKey,
    readonly config: ConfigFile,
    readonly params: RepoParams,
    /** The key file the password opened (the one `key passwd` replaces). */
    readonly keyName: string,
  ) {
    this.#packReader = new CoalescingPackReader(backend);
  }

  get id(): string {
    return this.config.id;
  }

  /** Whether new blobs may be delta-coded (§5.1): format 2 and zstd; readers of format 1 know no deltas. */
  get deltaCoding(): boolean {
    return this.config.version >= DELTA_FORMAT_VERSION && this.params.compression === "zstd";
  }

  static async init(backend: Backend, password: string, options: InitOptions = {}): Promise<Repository> {
    if (!password) throw new RepoError("invalid_argument", "an empty password is not allowed");
    await backend.create();
    const key = generateMasterKey();
    const params = { ...defaultParams(), ...options.params };
    const config = sealConfig(key.encKey, params, options.now ?? new Date());
    const keyName = await addKey(backend, key, password, options.kdf);
    // config last: a crash before this point leaves no repository, not half of one.
    await backend.save(
      { type: "config", name: "config" },
      Buffer.from(`${JSON.stringify(config, null, 2)}\n`),
    );
    return new Repository(backend, key, config, params, keyName);
  }

  static async open(backend: Backend, password: string): Promise<Repository> {
    return Repository.unlocked(backend, await unlockRepository(backend, password));
  }

  /** The repository `unlockRepository` opened on `backend`. */
  static unlocked(backend: Backend, { config, master, keyName }: UnlockedRepository): Repository {
    return new Repository(backend, master, config, openParams(master.encKey, config), keyName);
  }

  chunker(): FastCdc {
    return new FastCdc(this.params.chunker);
  }

  blobId(plaintext: Uint8Array): string {
    return blobId(this.key.idKey, plaintext).toString("hex");
  }

  /** The blobs of every index loaded so far. */
  get index(): MasterIndex {
    return this.#index;
  }

  /**
   * Forgets what was loaded and reads the indexes again: a long-lived
   * process must do this before a backup, since a prune may have deleted
   * packs the old in-memory index still lists.
   */
  async reloadIndex(): Promise<void> {
    this.#index = new MasterIndex();
    this.#loadedIndexes = new Set();
    await this.loadIndex();
  }

  /** Loads every index file not loaded yet; indexes superseded by a newer one are skipped. */
  async loadIndex(): Promise<void> {
    const files = new Map<string, IndexFile>();
    for await (const f of this.backend.list("index")) {
      if (this.#loadedIndexes.has(f.name)) continue;
      files.set(
        f.name,
        decodeIndexFile(await this.loadJson("index", f.name), `index/${f.name.slice(0, 12)}`),
      );
    }
    const superseded = new Set([...files.values()].flatMap((f) => f.supersedes));
    for (const [name, file] of files) {
      this.#loadedIndexes.add(name);
      if (superseded.has(name)) continue;
      for (const p of file.packs) this.index.addPack(p.id, p.entries);
    }
  }

  /**
   * Takes in the packs of index `name`, which this process just wrote, so
   * that the next loadIndex does not read them back from the backend.
   */
  addWrittenIndex(name: string, packs: IndexFile["packs"]): void {
    this.#loadedIndexes.add(name);
    for (const p of packs) this.index.addPack(p.id, p.entries);
  }

  /** Packs present in the backend that no index lists: left by a writer that crashed before its index. */
  async findUnindexedPacks(): Promise<{ id: string; entries: Awaited<ReturnType<typeof readPackHeader>> }[]> {
    const found = [];
    for await (const f of this.backend.list("data")) {
      if (this.index.hasPack(f.name)) continue;
      try {
        found.push({ id: f.name, entries: await readPackHeader(this.backend, this.key.encKey, f.name) });
      } catch (err) {
        // A damaged orphan is garbage for prune, not a reason to fail a backup.
        if (!(err instanceof RepoError && err.code === "data_corrupt")) throw err;
      }
    }
    return found;
  }

  /**
   * Reads, decrypts and verifies one blob; never returns bytes that do not
   * hash to `id`. Copies stored whole are tried before delta-coded ones.
   */
  async loadBlob(id: string, type?: BlobType): Promise<Buffer> {
    const locations = this.index.lookup(id).filter((l) => type === undefined || l.type === type);
    if (locations.length === 0)
      throw new RepoError("blob_missing", `blob ${id.slice(0, 12)} is not in the index`);
    return this.#loadFrom(id, wholeFirst(locations));
  }

  async #loadFrom(id: string, locations: readonly BlobLocation[]): Promise<Buffer> {
    let lastError: unknown;
    for (const loc of locations) {
      try {
        const envelope = await this.#packReader.read(loc.pack, { offset: loc.offset, length: loc.length });
        const what = `blob ${id.slice(0, 12)} in pack ${loc.pack.slice(0, 12)}`;
        if (loc.bases !== undefined) {
          const dictionary = await loadDictionary(this.index, loc.bases, id, (b, whole) =>
            this.#loadFrom(b, whole),
          );
          return this.#openHere(id, envelope, loc.rawLength, what, dictionary);
        }
        const plain =
          loc.type === "data" && loc.length >= OFFLOAD_BYTES
            ? await this.workers()
                .open(id, envelope, loc.rawLength)
                .catch((err: RepoError) => {
                  throw new RepoError(err.code, `${err.message} (pack ${loc.pack.slice(0, 12)})`);
                })
            : this.#openHere(id, envelope, loc.rawLength, what);
        return plain;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }

  /** The blob worker threads, started on first use; `close` stops them. */
  workers(): BlobWorkers {
    this.#workers ??= new BlobWorkers(this.key, this.params.compression);
    return this.#workers;
  }

  /** Stops the encoder workers and closes files the backend keeps open; call when done with the repository. */
  async close(): Promise<void> {
    await this.#workers?.close();
    this.#workers = undefined;
    await (this.backend as Partial<{ close(): Promise<void> }>).close?.();
  }

  #openHere(
    id: string,
    envelope: Buffer,
    rawLength: number,
    what: string,
    dictionary?: DeltaDictionary,
  ): Buffer {
    const plain = decompressBlob(
      open(this.key.encKey, envelope, Buffer.from(id, "hex"), what),
      rawLength,
      what,
      dictionary,
    );
    if (this.blobId(plain) !== id) throw new RepoError("data_corrupt", `${what} does not match its id`);
    return plain;
  }

  startWrite(options?: WriteSessionOptions): WriteSession {
    return new WriteSession(this, options);
  }

  saveJson(type: JsonFileType, value: unknown): Promise<string> {
    return this.saveEncodedJson(type, Buffer.from(JSON.stringify(value)));
  }

  /** Saves JSON encoded by the caller: an index of many packs is built piece by piece, not as one object tree. */
  saveEncodedJson(type: JsonFileType, json: Buffer): Promise<string> {
    return saveJsonFile(this.backend, this.key.encKey, type, json);
  }

  loadJson(type: JsonFileType, name: string): Promise<unknown> {
    return loadJsonFile(this.backend, this.key.encKey, type, name);
  }
}
