import { RepoError } from "@pwdr/repo";

const RANGE = /^bytes=(\d{1,15})-(\d{1,15})$/;

/** Parses `bytes=<first>-<last>` (one range, both ends given); the length is capped so a request cannot make the server allocate without bound. */
export function parseRange(
  header: string | undefined,
  maxLength: number,
): { offset: number; length: number } | undefined {
  if (header === undefined) return undefined;
  const match = RANGE.exec(header);
  const first = Number(match?.[1]);
  const length = Number(match?.[2]) - first + 1;
  if (!match || !(length > 0) || length > maxLength) {
    throw new RepoError(
      "invalid_argument",
      `range "${header.slice(0, 100)}" is not a single "bytes=first-last" range of at most ${maxLength} bytes`,
    );
  }
  return { offset: first, length };
}

export function rangeHeader(range: { offset: number; length: number }): string {
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}
