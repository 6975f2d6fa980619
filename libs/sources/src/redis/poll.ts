import { setTimeout as sleep } from "node:timers/promises";

export interface PollTiming {
  timeoutMs: number;
  pollMs: number;
}

/** Calls `done` every `pollMs` until it answers true; false when `timeoutMs` passed first. */
export async function pollUntil(done: () => Promise<boolean>, timing: PollTiming): Promise<boolean> {
  const deadline = Date.now() + timing.timeoutMs;
  for (;;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(timing.pollMs, Math.max(0, deadline - Date.now())));
  }
}
