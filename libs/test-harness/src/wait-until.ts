import { setTimeout as sleep } from "node:timers/promises";

const POLL_MS = 50;

/**
 * Polls `probe` until it returns true. Resolves false on timeout; probe errors count as "not yet".
 * `stop` ends the wait early (the server process died, say).
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  stop: () => boolean = () => false,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stop()) {
    if (await probe().catch(() => false)) return true;
    await sleep(POLL_MS);
  }
  return false;
}
