// Time arithmetic of the fleet schedule: cron slots, per-host jitter and
// time windows. Cron and windows use the controller's time zone.
import { createHash } from "node:crypto";
import { Cron } from "croner";
import type { PolicyWindow } from "../policy-schema.js";

/** The latest time `cron` fires at or before `now` (croner's previousRuns excludes `now` itself). */
export function latestSlot(cron: string, now: Date): Date | undefined {
  const pattern = new Cron(cron, { paused: true });
  const [candidate] = pattern.previousRuns(1, new Date(now.getTime() + 1_000));
  if (!candidate) return undefined;
  if (candidate <= now) return candidate;
  return pattern.previousRuns(1, candidate)[0];
}

/**
 * A delay in [0, jitter) seconds that depends only on the host and the
 * schedule, so a host runs at the same offset every time (and the agent,
 * given the same number, agrees) while a fleet spreads out.
 */
export function jitterSeconds(hostId: string, schedule: string, jitterMs: number): number {
  const range = Math.floor(jitterMs / 1_000);
  if (range <= 0) return 0;
  const digest = createHash("sha256").update(`${hostId}/${schedule}`).digest();
  return digest.readUInt32BE(0) % range;
}

function minutesOf(clock: string): number {
  const [h, m] = clock.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Whether `at` falls inside the window (start inclusive, end exclusive; may wrap midnight). */
export function windowContains(window: PolicyWindow, at: Date): boolean {
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const now = at.getHours() * 60 + at.getMinutes();
  return start < end ? now >= start && now < end : now >= start || now < end;
}

/**
 * When the window a job due at `dueAt` may run in closes: the first window
 * end after `dueAt`. Inside a window that is its own end; outside, the next
 * window opens first and this is where that one closes.
 */
export function windowCloseAfter(window: PolicyWindow, dueAt: Date): Date {
  const end = minutesOf(window.end);
  const close = new Date(dueAt);
  close.setHours(Math.floor(end / 60), end % 60, 0, 0);
  if (close <= dueAt) close.setDate(close.getDate() + 1);
  return close;
}
