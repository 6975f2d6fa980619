import { MAX_DELTA_BASES } from "../compression/codec.js";
import { RepoError } from "../errors.js";

/**
 * One blob inside a pack (§7): type, id, offset and stored length of its
 * envelope, plaintext length, and for a delta-coded blob (§5.1) the ids of
 * the blobs it was compressed against, in dictionary order.
 */
export interface PackEntry {
  type: BlobType;
  id: string;
  offset: number;
  length: number;
  rawLength: number;
  bases?: readonly string[] | undefined;
}

export type BlobType = "data" | "tree";

interface WireEntry {
  t: "d" | "t";
  id: string;
  o: number;
  l: number;
  u: number;
  b?: string[];
}

export const HEADER_AAD = Buffer.from("pack-header");
const HEX64 = /^[0-9a-f]{64}$/;

export function encodeEntries(entries: readonly PackEntry[]): Buffer {
  const wire: WireEntry[] = entries.map((e) => {
    const w: WireEntry = {
      t: e.type === "tree" ? "t" : "d",
      id: e.id,
      o: e.offset,
      l: e.length,
      u: e.rawLength,
    };
    if (e.bases !== undefined) w.b = [...e.bases];
    return w;
  });
  return Buffer.from(JSON.stringify(wire));
}

/** Parses and validates entries; `what` names the pack or index in errors. */
export function decodeEntries(json: unknown, what: string): PackEntry[] {
  if (!Array.isArray(json)) throw new RepoError("data_corrupt", `${what}: blob list is not an array`);
  return json.map((w: Partial<WireEntry>) => {
    const ok =
      (w.t === "d" || w.t === "t") &&
      typeof w.id === "string" &&
      HEX64.test(w.id) &&
      Number.isSafeInteger(w.o) &&
      Number.isSafeInteger(w.l) &&
      Number.isSafeInteger(w.u) &&
      (w.o as number) >= 0 &&
      (w.l as number) > 0 &&
      (w.u as number) >= 0 &&
      (w.b === undefined || validBases(w.b, w));
    if (!ok)
      throw new RepoError("data_corrupt", `${what}: malformed blob entry ${JSON.stringify(w).slice(0, 200)}`);
    return {
      type: w.t === "t" ? "tree" : "data",
      id: w.id as string,
      offset: w.o as number,
      length: w.l as number,
      rawLength: w.u as number,
      bases: w.b,
    };
  });
}

/** Bases are for data blobs only: 1 to MAX_DELTA_BASES distinct ids, none the blob itself (§5.1). */
function validBases(b: unknown, w: Partial<WireEntry>): boolean {
  return (
    w.t === "d" &&
    Array.isArray(b) &&
    b.length > 0 &&
    b.length <= MAX_DELTA_BASES &&
    b.every((id) => typeof id === "string" && HEX64.test(id) && id !== w.id) &&
    new Set(b).size === b.length
  );
}
