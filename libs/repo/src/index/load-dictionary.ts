import type { DeltaDictionary } from "../compression/codec.js";
import { RepoError } from "../errors.js";
import type { BlobLocation, MasterIndex } from "./master-index.js";

/**
 * The dictionary a delta-coded blob `of` decodes with (§5.1): its bases,
 * each read by `load` from its whole copies only, since bases are never
 * delta-coded themselves; concatenated in order.
 */
export async function loadDictionary(
  index: MasterIndex,
  bases: readonly string[],
  of: string,
  load: (id: string, whole: BlobLocation[]) => Promise<Buffer>,
): Promise<DeltaDictionary> {
  const parts = await Promise.all(
    bases.map((base) => {
      const whole = index.lookup(base).filter((l) => l.type === "data" && l.bases === undefined);
      if (whole.length > 0) return load(base, whole);
      const message = `blob ${base.slice(0, 12)}, a base blob ${of.slice(0, 12)} is delta-coded against, is not stored whole in any indexed pack`;
      return Promise.reject(new RepoError("blob_missing", message));
    }),
  );
  return { bases, plain: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts) };
}
