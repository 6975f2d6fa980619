import type { DeltaDictionary } from "../compression/codec.js";
import { RepoError } from "../errors.js";
import { openBlobEnvelope } from "../pack/open-blob-envelope.js";
import type { BlobType } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
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

  /** The dictionary of a delta (§5.1): its bases, each read from a whole copy, as bases are never delta-coded. */
  async loadDictionary(bases: readonly string[], of: string): Promise<DeltaDictionary> {
    const parts = await Promise.all(
      bases.map((base) => {
        const whole = this.index.lookup(base).filter((l) => l.type === "data" && l.bases === undefined);
        if (whole.length > 0) return this.#loadFrom(base, whole);
        const message = `blob ${base.slice(0, 12)}, a base blob ${of.slice(0, 12)} is delta-coded against, is not stored whole in any indexed pack`;
        return Promise.reject(new RepoError("blob_missing", message));
      }),
    );
    return { bases, plain: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) };
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
