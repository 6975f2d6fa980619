import { RepoError } from "../errors.js";
import { decodeEntries, encodeEntries, type PackEntry } from "../pack/pack-format.js";

/** The decoded content of one index file (§7). */
export interface IndexFile {
  supersedes: string[];
  packs: { id: string; entries: PackEntry[] }[];
}

export function encodeIndexFile(index: IndexFile): Buffer {
  const packs = index.packs.map(
    (p) => `{"id":${JSON.stringify(p.id)},"blobs":${encodeEntries(p.entries).toString()}}`,
  );
  return Buffer.from(`{"supersedes":${JSON.stringify(index.supersedes)},"packs":[${packs.join(",")}]}`);
}

export function decodeIndexFile(json: unknown, what: string): IndexFile {
  const o = json as { supersedes?: unknown; packs?: unknown };
  if (typeof o !== "object" || o === null || !Array.isArray(o.packs)) {
    throw new RepoError("data_corrupt", `${what} is not an index`);
  }
  const supersedes = Array.isArray(o.supersedes)
    ? o.supersedes.filter((s): s is string => typeof s === "string")
    : [];
  const packs = o.packs.map((p: { id?: unknown; blobs?: unknown }) => {
    if (typeof p?.id !== "string" || !/^[0-9a-f]{64}$/.test(p.id)) {
      throw new RepoError("data_corrupt", `${what} lists a pack with a malformed id`);
    }
    return { id: p.id, entries: decodeEntries(p.blobs, `${what}, pack ${p.id.slice(0, 12)}`) };
  });
  return { supersedes, packs };
}
