/** A byte range of one pack file: [offset, end). */
export interface PackRange {
  pack: string;
  offset: number;
  end: number;
}

export interface MergeLimits {
  /** Blobs of one pack closer than this are read in one go: a gap costs less than another read. */
  gap: number;
  /** No merged range grows beyond this many bytes. */
  maxRange: number;
}

/** Pack ranges covering `blobs`, sorted by pack and offset, neighbours within `gap` joined. */
export function mergeRanges(
  blobs: readonly { pack: string; offset: number; length: number }[],
  limits: MergeLimits,
): PackRange[] {
  const sorted = [...blobs].sort((a, b) =>
    a.pack === b.pack ? a.offset - b.offset : a.pack < b.pack ? -1 : 1,
  );
  const ranges: PackRange[] = [];
  for (const b of sorted) {
    const last = ranges.at(-1);
    const end = b.offset + b.length;
    if (
      last &&
      last.pack === b.pack &&
      b.offset <= last.end + limits.gap &&
      end - last.offset <= limits.maxRange
    ) {
      last.end = Math.max(last.end, end);
    } else {
      ranges.push({ pack: b.pack, offset: b.offset, end });
    }
  }
  return ranges;
}

/** The range of `ranges` holding the blob at [offset, offset + length) of `pack`. */
export function rangeIndexOf(ranges: readonly PackRange[], pack: string, offset: number): number {
  return ranges.findIndex((r) => r.pack === pack && r.offset <= offset && offset < r.end);
}
