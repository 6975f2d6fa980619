import { isRepoError, RepoError } from "../errors.js";
import type { IndexBlobReader } from "../index/index-blob-reader.js";
import { openBlobEnvelope } from "../pack/open-blob-envelope.js";
import type { PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import type { WriteSession } from "../write-session.js";
import type { Inventory } from "./inventory.js";
import type { PrunePlan } from "./prune-plan.js";
import type { PruneProgressListener } from "./prune-progress.js";

export interface RepackResult {
  packsWritten: number;
  /** Blob bytes copied into new packs (their headers not counted). */
  bytesWritten: number;
}

/**
 * Copies the live blobs of the packs chosen for repacking into new packs and
 * indexes them (a WriteSession, so packs → index as in §8); the old packs go
 * later, under the exclusive lock. Envelopes are copied as they are, after
 * verification: a damaged copy is skipped when another copy is intact, and
 * prune stops when a needed blob has no intact copy at all.
 */
export async function repack(
  repo: Repository,
  inv: Inventory,
  plan: PrunePlan,
  onProgress: PruneProgressListener,
): Promise<RepackResult> {
  if (plan.repackPacks.length === 0) return { packsWritten: 0, bytesWritten: 0 };
  const needed = blobsToCopy(inv, plan);
  const session = repo.startWrite();
  try {
    await copyLiveBlobs(repo, session, inv, plan, needed, onProgress);
  } catch (err) {
    await session.abort();
    throw err;
  }
  await session.flush();
  return { packsWritten: session.stats.packsWritten, bytesWritten: session.stats.bytesAdded };
}

async function copyLiveBlobs(
  repo: Repository,
  session: WriteSession,
  inv: Inventory,
  plan: PrunePlan,
  needed: Set<string>,
  onProgress: PruneProgressListener,
): Promise<void> {
  const copied = new Set<string>();
  for (const [i, pack] of plan.repackPacks.entries()) {
    const wanted = (inv.packs.get(pack) ?? []).filter((e) => needed.has(e.id) && !copied.has(e.id));
    // One read per pack: repacked packs are mostly live data anyway.
    const bytes = wanted.length ? await repo.backend.load({ type: "data", name: pack }) : Buffer.alloc(0);
    for (const e of wanted) {
      const envelope = await intactEnvelope(repo, inv.blobs, pack, bytes, e);
      if (!envelope || copied.has(e.id)) continue;
      await session.copyBlob({ type: e.type, id: e.id, rawLength: e.rawLength, bases: e.bases }, envelope);
      copied.add(e.id);
    }
    onProgress({ phase: "repack", done: i + 1, total: plan.repackPacks.length });
  }
  const lost = [...needed].filter((id) => !copied.has(id));
  if (lost.length) {
    throw new RepoError(
      "data_corrupt",
      `prune cannot repack: ${lost.length} blobs that snapshots need are damaged in every copy (first: ${lost[0]?.slice(0, 12)}); nothing was deleted; run \`check --read-data\``,
    );
  }
}

/** Live blobs in repacked packs that no surviving pack also holds. */
function blobsToCopy(inv: Inventory, plan: PrunePlan): Set<string> {
  const leaving = new Set([...plan.deletePacks, ...plan.repackPacks]);
  const needed = new Set<string>();
  for (const pack of plan.repackPacks) {
    for (const e of inv.packs.get(pack) ?? []) {
      if (!inv.live.has(e.id)) continue;
      const kept = inv.index.lookup(e.id).some((l) => !leaving.has(l.pack) && inv.packSizes.has(l.pack));
      if (!kept) needed.add(e.id);
    }
  }
  return needed;
}

/**
 * A copy of the blob's envelope if it verifies (a delta-coded one against
 * its bases, §5.1); copied out so the pack's buffer can be freed.
 */
async function intactEnvelope(
  repo: Repository,
  bases: IndexBlobReader,
  pack: string,
  bytes: Buffer,
  e: PackEntry,
): Promise<Buffer | undefined> {
  if (e.offset + e.length > bytes.length) return undefined;
  const envelope = bytes.subarray(e.offset, e.offset + e.length);
  try {
    const dictionary = e.bases === undefined ? undefined : await bases.loadDictionary(e.bases, e.id);
    openBlobEnvelope(repo, e, envelope, `blob ${e.id.slice(0, 12)} in pack ${pack.slice(0, 12)}`, dictionary);
  } catch (err) {
    if (isRepoError(err, "data_corrupt") || isRepoError(err, "blob_missing")) return undefined;
    throw err;
  }
  return Buffer.from(envelope);
}
