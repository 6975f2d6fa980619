import { ENVELOPE_OVERHEAD } from "../crypto/envelope.js";
import { encodeEntries, type PackEntry } from "../pack/pack-format.js";

/**
 * The size a pack with these blobs has (§7): blob envelopes, then the header
 * envelope (whose JSON length does not depend on entry order), then 4 bytes
 * of header length. An index that lists only some of a pack's blobs yields a
 * smaller size, which check reports too.
 */
export function expectedPackSize(entries: readonly PackEntry[]): number {
  let end = 0;
  for (const e of entries) end = Math.max(end, e.offset + e.length);
  return end + ENVELOPE_OVERHEAD + encodeEntries(entries).length + 4;
}
