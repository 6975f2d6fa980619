import { RepoError } from "../errors.js";
import type { PackEntry } from "../pack/pack-format.js";
import type { Inventory } from "./inventory.js";

/**
 * How much unused space prune may leave in packs it keeps, relative to the
 * repository's size after pruning (restic's --max-unused): a percentage, a
 * number of bytes, or no limit (never repack).
 */
export type MaxUnused = { percent: number } | { bytes: number } | "unlimited";

export const DEFAULT_MAX_UNUSED: MaxUnused = { percent: 5 };

/** What prune will do, with sizes; a dry run returns only this. */
export interface PrunePlan {
  snapshots: number;
  liveBlobs: number;
  /** Indexed packs with no live blob: deleted. */
  deletePacks: string[];
  /** Packs whose live blobs are copied into new packs, then deleted. */
  repackPacks: string[];
  /** Pack files no index lists (a writer stopped before its index): deleted. */
  unindexedPacks: string[];
  /** Indexed packs that do not exist and hold nothing needed: dropped from the index. */
  missingPacks: string[];
  /** Packs left as they are. */
  keptPacks: number;
  bytes: {
    /** All pack files now. */
    total: number;
    /** Live blobs in indexed packs (a blob stored twice counts twice). */
    used: number;
    /** Blobs no snapshot needs, in indexed packs. */
    unused: number;
    /** Pack files deleted outright. */
    delete: number;
    /** Pack files rewritten. */
    repack: number;
    /** Live bytes copied out of them. */
    repackLive: number;
    /** Estimated size of all pack files afterwards. */
    after: number;
    /** Unused bytes left in kept packs afterwards. */
    unusedAfter: number;
  };
}

interface PackUse {
  id: string;
  size: number;
  used: number;
  unused: number;
}

export function validateMaxUnused(max: MaxUnused): void {
  if (max === "unlimited") return;
  const ok =
    "percent" in max
      ? max.percent >= 0 && max.percent < 100
      : Number.isSafeInteger(max.bytes) && max.bytes >= 0;
  if (!ok) {
    throw new RepoError(
      "invalid_argument",
      `max unused ${JSON.stringify(max)}: want 0 <= percent < 100 or a byte count >= 0`,
    );
  }
}

/** The unused bytes allowed: a percentage p of the size after pruning means used * p / (100 - p). */
function unusedLimit(max: MaxUnused, used: number): number {
  if (max === "unlimited") return Number.POSITIVE_INFINITY;
  return "bytes" in max ? max.bytes : (used * max.percent) / (100 - max.percent);
}

function packUse(
  id: string,
  size: number,
  entries: readonly PackEntry[],
  live: ReadonlySet<string>,
): PackUse {
  let used = 0;
  let unused = 0;
  for (const e of entries) {
    if (live.has(e.id)) used += e.length;
    else unused += e.length;
  }
  return { id, size, used, unused };
}

/**
 * Decides what prune does (§9): packs without live blobs go; of partly used
 * packs, those with the largest unused share are repacked until the unused
 * space left is within `max`; unindexed packs go. Pure: I/O happens elsewhere.
 */
export function planPrune(inv: Inventory, max: MaxUnused): PrunePlan {
  validateMaxUnused(max);
  const deleted: PackUse[] = [];
  const partly: PackUse[] = [];
  const full: PackUse[] = [];
  const missingPacks: string[] = [];
  for (const [id, entries] of inv.packs) {
    const size = inv.packSizes.get(id);
    if (size === undefined) {
      assertNotNeeded(inv, id, entries);
      missingPacks.push(id);
      continue;
    }
    const use = packUse(id, size, entries, inv.live);
    if (use.used === 0) deleted.push(use);
    else if (use.unused === 0) full.push(use);
    else partly.push(use);
  }
  const unindexedPacks = [...inv.packSizes.keys()].filter((id) => !inv.packs.has(id)).sort();
  const sum = (packs: PackUse[], key: keyof Omit<PackUse, "id">) => packs.reduce((n, p) => n + p[key], 0);
  const used = sum(full, "used") + sum(partly, "used");
  const repack = chooseRepacks(partly, unusedLimit(max, used));
  const total = [...inv.packSizes.values()].reduce((n, s) => n + s, 0);
  const deleteBytes =
    sum(deleted, "size") + unindexedPacks.reduce((n, id) => n + (inv.packSizes.get(id) ?? 0), 0);
  const repackBytes = sum(repack, "size");
  const repackLive = sum(repack, "used");
  return {
    snapshots: inv.snapshots.size,
    liveBlobs: inv.live.size,
    deletePacks: deleted.map((p) => p.id).sort(),
    repackPacks: repack.map((p) => p.id).sort(),
    unindexedPacks,
    missingPacks: missingPacks.sort(),
    keptPacks: full.length + partly.length - repack.length,
    bytes: {
      total,
      used,
      unused: sum(deleted, "unused") + sum(partly, "unused"),
      delete: deleteBytes,
      repack: repackBytes,
      repackLive,
      after: total - deleteBytes - repackBytes + repackLive,
      unusedAfter: sum(partly, "unused") - sum(repack, "unused"),
    },
  };
}

/** Most wasteful first, until what stays unused is within the limit. */
function chooseRepacks(partly: PackUse[], limit: number): PackUse[] {
  const ranked = [...partly].sort(
    (a, b) =>
      b.unused / (b.used + b.unused) - a.unused / (a.used + a.unused) ||
      b.unused - a.unused ||
      (a.id < b.id ? -1 : 1),
  );
  let remaining = ranked.reduce((n, p) => n + p.unused, 0);
  const chosen: PackUse[] = [];
  for (const p of ranked) {
    if (remaining <= limit) break;
    chosen.push(p);
    remaining -= p.unused;
  }
  return chosen;
}

/** An indexed pack that does not exist may be dropped only when every live blob in it is stored elsewhere. */
function assertNotNeeded(inv: Inventory, pack: string, entries: readonly PackEntry[]): void {
  for (const e of entries) {
    if (!inv.live.has(e.id)) continue;
    if (inv.index.lookup(e.id).some((l) => l.pack !== pack && inv.packSizes.has(l.pack))) continue;
    throw new RepoError(
      "blob_missing",
      `prune: pack ${pack.slice(0, 12)} is listed in the index but does not exist, and snapshots need its blob ${e.id.slice(0, 12)}; nothing was deleted; run \`check\``,
    );
  }
}
