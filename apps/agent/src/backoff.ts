/**
 * Exponential backoff with full jitter: a fleet that lost its controller does
 * not reconnect in lockstep when it comes back.
 */
export function backoffDelayMs(attempt: number, baseMs = 500, maxMs = 60_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
