import type { BlobType, PackEntry } from "../pack/pack-format.js";

/** Where a blob can be read. */
export interface BlobLocation {
  pack: string;
  type: BlobType;
  offset: number;
  length: number;
  rawLength: number;
  /** Set for a delta-coded copy (§5.1): the blobs whose plaintext decodes it. */
  bases: readonly string[] | undefined;
}

/**
 * All blobs the loaded indexes know, by id. A blob stored twice (two
 * writers at once) keeps every location; readers take the first.
 */
export class MasterIndex {
  readonly #blobs = new Map<string, BlobLocation | BlobLocation[]>();
  readonly #packs = new Map<string, PackEntry[]>();

  addPack(pack: string, entries: readonly PackEntry[]): void {
    if (this.#packs.has(pack)) return;
    this.#packs.set(pack, [...entries]);
    for (const e of entries) {
      const loc: BlobLocation = {
        pack,
        type: e.type,
        offset: e.offset,
        length: e.length,
        rawLength: e.rawLength,
        bases: e.bases,
      };
      const prev = this.#blobs.get(e.id);
      if (prev === undefined) this.#blobs.set(e.id, loc);
      else if (Array.isArray(prev)) prev.push(loc);
      else this.#blobs.set(e.id, [prev, loc]);
    }
  }

  has(id: string): boolean {
    return this.#blobs.has(id);
  }

  lookup(id: string): BlobLocation[] {
    const v = this.#blobs.get(id);
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }

  /** Whether some copy of the blob is stored whole (not delta-coded): only such a blob may be a base. */
  hasWhole(id: string): boolean {
    return this.lookup(id).some((l) => l.bases === undefined);
  }

  /** Whether the copy can be read from this index: stored whole, or delta-coded against bases stored whole (§5.1). */
  decodable(copy: BlobLocation): boolean {
    return copy.bases === undefined || copy.bases.every((b) => this.hasWhole(b));
  }

  hasPack(pack: string): boolean {
    return this.#packs.has(pack);
  }

  packs(): IterableIterator<[string, PackEntry[]]> {
    return this.#packs.entries();
  }

  get blobCount(): number {
    return this.#blobs.size;
  }

  get packCount(): number {
    return this.#packs.size;
  }
}

/** Copies stored whole first: they need no second blob read (§5.1). */
export function wholeFirst(locations: readonly BlobLocation[]): readonly BlobLocation[] {
  if (locations.length < 2) return locations;
  return [...locations].sort((a, b) => Number(a.bases !== undefined) - Number(b.bases !== undefined));
}
