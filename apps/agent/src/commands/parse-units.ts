import { RepoError } from "@pwdr/repo";

const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "500M", "2G", "1024" → bytes. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new RepoError("invalid_argument", `${what}: "${text}" is not a size; use e.g. 500M or 2G`);
  return Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? "").toLowerCase()] ?? 1));
}

const DURATION_UNITS: Record<string, number> = {
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  m: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

/** "7d", "2w", "1y6m", "36h" → milliseconds (m = 30 days, y = 365 days). */
export function parseDurationSpec(text: string, what: string): number {
  const parts = [...text.trim().matchAll(/(\d+)([hdwmy])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) {
    throw new RepoError(
      "invalid_argument",
      `${what}: "${text}" is not a duration; use e.g. 7d, 2w, 1y6m, 36h`,
    );
  }
  return parts.reduce((ms, p) => ms + Number(p[1]) * (DURATION_UNITS[p[2] as string] ?? 0), 0);
}

/** A non-negative integer option. */
export function count(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0)
    throw new RepoError("invalid_argument", `"${text}" is not a count (0, 1, 2, …)`);
  return n;
}
