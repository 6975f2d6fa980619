import type { PollTiming } from "./poll.js";

/** Waits of a Redis backup or restore; the defaults suit a Raspberry Pi with an SD card. */
export interface RedisTimingOptions {
  /** Longest wait for a BGSAVE, an AOF rewrite, or Redis to load its data. Default 10 minutes. */
  timeoutMs?: number;
  /** How often INFO is polled meanwhile. Default 50 ms: a host restore waits on it, and INFO is cheap. */
  pollMs?: number;
}

export function pollTiming(options: RedisTimingOptions): PollTiming {
  return { timeoutMs: options.timeoutMs ?? 10 * 60_000, pollMs: options.pollMs ?? 50 };
}
