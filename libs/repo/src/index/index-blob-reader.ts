import type { DeltaDictionary } from "../compression/codec.js";
import { RepoError } from "../errors.js";
import { openBlobEnvelope } from "../pack/open-blob-envelope.js";
import type { BlobType } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import { loadDictionary } from "./load-dictionary.js";
import { type BlobLocation, type MasterIndex, wholeFirst } from "./master-index.js";

/**
 * Loads and verifies blobs through a given index instead of the
 * repository's own: check and prune must see what the backend holds now,
 * not what this process happened to load or write earlier.
 */
export class IndexBlobReader {
  constructor(
    private readonly repo: Pick<Repository, "backend" | "key" | "blobId">,
    readonly index: MasterIndex,
  ) {}

  /** Like Repository.loadBlob: tries each copy, whole ones first, returns only bytes that hash to `id`. */
  async loadBlob(id: string, type?: BlobType): Promise<Buffer> {
    const locations = this.index.lookup(id).filter((l) => type === undefined || l.type === type);
    if (locations.length === 0) {
      throw new RepoError("blob_missing", `blob ${id.slice(0, 12)} is not in the index`);
    }
    return this.#loadFrom(id, wholeFirst(locations));
  }

  /** The dictionary a delta-coded blob decodes with (§5.1). */
  loadDictionary(bases: readonly string[], of: string): Promise<DeltaDictionary> {
    return loadDictionary(this.index, bases, of, (b, whole) => this.#loadFrom(b, whole));
  }

  async #loadFrom(id: string, locations: readonly BlobLocation[]): Promise<Buffer> {
    let lastError: unknown;
    for (const loc of locations) {
      try {
        const envelope = await this.repo.backend.load(
          { type: "data", name: loc.pack },
          { offset: loc.offset, length: loc.length },
        );
        const dictionary = loc.bases === undefined ? undefined : await this.loadDictionary(loc.bases, id);
        return openBlobEnvelope(
          this.repo,
          { id, rawLength: loc.rawLength },
          envelope,
          `blob ${id.slice(0, 12)} in pack ${loc.pack.slice(0, 12)}`,
          dictionary,
        );
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}
