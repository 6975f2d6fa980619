const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "90s", "15m", "24h", "7d" into milliseconds; names the bad value otherwise. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  const unit = match?.[2] ? UNITS[match[2]] : undefined;
  if (!match || unit === undefined) {
    throw new Error(`${what}: "${text}" is not a duration; use a number and a unit s, m, h or d, e.g. 24h`);
  }
  return Number(match[1]) * unit;
}
