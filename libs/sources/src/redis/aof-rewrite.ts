import type { Redis } from "ioredis";
import { sourceFailed } from "./failure.js";
import { infoNumber, readInfo } from "./info.js";
import { type PollTiming, pollUntil } from "./poll.js";

/**
 * Waits until no AOF rewrite runs or is scheduled: a rewrite swaps the base
 * file and the manifest, so copying during one could mix generations.
 */
export async function waitForNoAofRewrite(client: Redis, where: string, timing: PollTiming): Promise<void> {
  const idle = await pollUntil(async () => {
    const info = await readInfo(client, "persistence");
    return (
      infoNumber(info, "aof_rewrite_in_progress") === 0 && infoNumber(info, "aof_rewrite_scheduled") === 0
    );
  }, timing);
  if (!idle) {
    throw sourceFailed(
      `an AOF rewrite on Redis at ${where} did not finish within ${timing.timeoutMs} ms; ` +
        "raise the time-out or check the Redis log",
    );
  }
}
