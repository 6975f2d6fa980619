import { IndexBlobReader } from "../index/index-blob-reader.js";
import { type BlobLocation, MasterIndex } from "../index/master-index.js";
import type { PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import type { SnapshotEntry } from "../snapshot/snapshot.js";
import type { CheckError, CheckProgress, CheckReport, CheckWarning } from "./check-report.js";

/** What the phases of a check learn and hand to the next ones. */
export class CheckState {
  /** The packs readers see (non-superseded indexes), and their blobs' locations. */
  packs = new Map<string, PackEntry[]>();
  readonly index = new MasterIndex();
  /** Reads blobs through `index` only, so the check sees the backend, not this process's memory. */
  readonly blobs: IndexBlobReader;
  /** Sizes of the pack files that exist. */
  readonly packSizes = new Map<string, number>();
  /** Per pack, the blobs that cannot be read from it. */
  readonly badCopies = new Map<string, Set<string>>();
  /** Blobs referenced by trees or snapshots that no readable index lists. */
  readonly missing = new Set<string>();
  readonly damagedTrees = new Set<string>();
  snapshots: SnapshotEntry[] = [];
  readonly report: CheckReport = {
    errors: [],
    warnings: [],
    damagedSnapshots: [],
    snapshotsChecked: 0,
    packsChecked: 0,
    packsRead: 0,
    blobsChecked: 0,
    bytesRead: 0,
  };

  constructor(
    repo: Repository,
    readonly onProgress: (p: CheckProgress) => void,
  ) {
    this.blobs = new IndexBlobReader(repo, this.index);
  }

  /** Records an error; `affected` is filled in at the end unless known now. */
  error(e: Omit<CheckError, "affected"> & Partial<Pick<CheckError, "affected">>): void {
    this.report.errors.push({ affected: [], ...e });
  }

  warning(w: CheckWarning): void {
    this.report.warnings.push(w);
  }

  markBad(pack: string, blobs: readonly string[]): void {
    if (blobs.length === 0) return;
    let set = this.badCopies.get(pack);
    if (!set) {
      set = new Set();
      this.badCopies.set(pack, set);
    }
    for (const b of blobs) set.add(b);
  }

  /** A blob is lost when no copy of it can be read: a delta-coded copy (§5.1) also needs a readable base. */
  isLost(id: string): boolean {
    if (this.missing.has(id) || this.damagedTrees.has(id)) return true;
    const locations = this.index.lookup(id);
    return locations.length > 0 && locations.every((l) => this.#copyLost(id, l));
  }

  #copyLost(id: string, l: BlobLocation): boolean {
    if (this.badCopies.get(l.pack)?.has(id)) return true;
    return (l.bases ?? []).some((base) => {
      if (this.missing.has(base)) return true;
      const whole = this.index.lookup(base).filter((b) => b.bases === undefined);
      return whole.length === 0 || whole.every((b) => this.badCopies.get(b.pack)?.has(base));
    });
  }

  /** The blobs delta-coded against any of `bases` that are lost with them. */
  lostDependents(bases: readonly string[]): string[] {
    const wanted = new Set(bases);
    if (wanted.size === 0) return [];
    const found = new Set<string>();
    for (const entries of this.packs.values()) {
      for (const e of entries) {
        if (e.bases?.some((b) => wanted.has(b)) && this.isLost(e.id)) found.add(e.id);
      }
    }
    return [...found];
  }

  get anythingLost(): boolean {
    return this.missing.size > 0 || this.damagedTrees.size > 0 || this.badCopies.size > 0;
  }
}
