import { RepoError } from "../errors.js";
import { openBlobEnvelope } from "../pack/open-blob-envelope.js";
import type { BlobType } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import type { MasterIndex } from "./master-index.js";

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

  /** Like Repository.loadBlob: tries each copy, returns only bytes that hash to `id`. */
  async loadBlob(id: string, type?: BlobType): Promise<Buffer> {
    const locations = this.index.lookup(id).filter((l) => type === undefined || l.type === type);
    if (locations.length === 0) {
      throw new RepoError("blob_missing", `blob ${id.slice(0, 12)} is not in the index`);
    }
    let lastError: unknown;
    for (const loc of locations) {
      try {
        const envelope = await this.repo.backend.load(
          { type: "data", name: loc.pack },
          { offset: loc.offset, length: loc.length },
        );
        return openBlobEnvelope(
          this.repo,
          { id, rawLength: loc.rawLength },
          envelope,
          `blob ${id.slice(0, 12)} in pack ${loc.pack.slice(0, 12)}`,
        );
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  }
}
