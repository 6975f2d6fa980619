import { RepoError } from "../errors.js";

/**
 * Which packs `check` reads in full (restic's --read-data / --read-data-subset):
 * all; part n of t (packs whose id's first byte mod t is n-1, so t runs with
 * n = 1..t cover every pack once); a random fraction of the packs (at least
 * one); or random packs up to a total number of bytes.
 */
export type ReadDataSelection =
  | "all"
  | { part: number; of: number }
  | { fraction: number }
  | { bytes: number };

/** Refuses a selection that makes no sense, before any work is done. */
export function validateSelection(selection: ReadDataSelection): void {
  if (selection === "all") return;
  if ("part" in selection) {
    const { part, of } = selection;
    if (!Number.isInteger(of) || of < 1 || !Number.isInteger(part) || part < 1 || part > of) {
      throw new RepoError("invalid_argument", `read-data subset ${part}/${of}: want n/t with 1 <= n <= t`);
    }
  } else if ("fraction" in selection) {
    if (!(selection.fraction > 0 && selection.fraction <= 1)) {
      throw new RepoError(
        "invalid_argument",
        `read-data subset ${selection.fraction * 100}%: want more than 0% and at most 100%`,
      );
    }
  } else if (!(Number.isSafeInteger(selection.bytes) && selection.bytes > 0)) {
    throw new RepoError(
      "invalid_argument",
      `read-data subset of ${selection.bytes} bytes: want a positive size`,
    );
  }
}

/** The packs to read, sorted; `packs` maps pack id to size. */
export function selectPacks(
  packs: ReadonlyMap<string, number>,
  selection: ReadDataSelection,
  random: () => number = Math.random,
): string[] {
  validateSelection(selection);
  const ids = [...packs.keys()].sort();
  if (selection === "all") return ids;
  if ("part" in selection) {
    return ids.filter((id) => Number.parseInt(id.slice(0, 2), 16) % selection.of === selection.part - 1);
  }
  if ("fraction" in selection) {
    const count = Math.max(1, Math.round(ids.length * selection.fraction));
    return shuffle(ids, random).slice(0, count).sort();
  }
  return bySize(shuffle(ids, random), packs, selection.bytes);
}

function bySize(ids: string[], packs: ReadonlyMap<string, number>, limit: number): string[] {
  const chosen: string[] = [];
  let total = 0;
  for (const id of ids) {
    const size = packs.get(id) ?? 0;
    if (total + size > limit) continue;
    chosen.push(id);
    total += size;
  }
  // Smaller than every pack: one pack still tells more than none.
  if (chosen.length === 0 && ids[0] !== undefined) chosen.push(ids[0]);
  return chosen.sort();
}

function shuffle(ids: readonly string[], random: () => number): string[] {
  const out = [...ids];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as string, out[i] as string];
  }
  return out;
}
