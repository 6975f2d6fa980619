import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";
import { redisFailure, sourceFailed } from "./failure.js";
import { infoNumber, readInfo } from "./info.js";
import { type PollTiming, pollUntil } from "./poll.js";

/**
 * Makes Redis write a fresh RDB and waits until it is on disk. "Fresh" means
 * LASTSAVE moved past its value before our BGSAVE; LASTSAVE counts whole
 * seconds, so when a save already finished in the current second we wait
 * for the next one first, or ours could not be told apart from it.
 */
export async function bgsaveAndWait(client: Redis, where: string, timing: PollTiming): Promise<number> {
  const deadline = Date.now() + timing.timeoutMs;
  const before = await client.lastsave();
  await waitForNextServerSecond(client, before);
  const started = await requestBgsave(client, where, { ...timing, timeoutMs: remaining(deadline) });
  const finished = await pollUntil(() => saveFinished(client, before, started, where), {
    ...timing,
    timeoutMs: remaining(deadline),
  });
  if (!finished) {
    throw sourceFailed(
      `BGSAVE on Redis at ${where} did not finish within ${timing.timeoutMs} ms; the dataset may be ` +
        "large or the disk slow: raise the time-out, or check the Redis log (the save keeps running)",
    );
  }
  return client.lastsave();
}

function remaining(deadline: number): number {
  return Math.max(0, deadline - Date.now());
}

async function waitForNextServerSecond(client: Redis, lastsave: number): Promise<void> {
  const [seconds, micros] = (await client.time()).map(Number) as [number, number];
  if (lastsave >= seconds) await sleep(1_000 - Math.floor(micros / 1_000) + 10);
}

/**
 * SCHEDULE lets Redis start the save as soon as an AOF rewrite ends instead
 * of refusing. A save someone else started may predate our call, so we let
 * it finish and ask again rather than adopt it.
 */
/** True when the save started at once, false when Redis only scheduled it. */
async function requestBgsave(client: Redis, where: string, timing: PollTiming): Promise<boolean> {
  for (;;) {
    try {
      const reply = await client.call("BGSAVE", ["SCHEDULE"]);
      return /started/i.test(String(reply));
    } catch (err) {
      if (!/already in progress/i.test(String((err as Error).message))) {
        throw redisFailure(`BGSAVE on Redis at ${where} was refused`, err);
      }
    }
    const idle = await pollUntil(async () => !(await bgsaveRunning(client)), timing);
    if (!idle) {
      throw sourceFailed(
        `a BGSAVE already running on Redis at ${where} did not finish within ${timing.timeoutMs} ms; ` +
          "raise the time-out or check the Redis log",
      );
    }
  }
}

async function bgsaveRunning(client: Redis): Promise<boolean> {
  return infoNumber(await readInfo(client, "persistence"), "rdb_bgsave_in_progress") === 1;
}

async function saveFinished(
  client: Redis,
  before: number,
  started: boolean,
  where: string,
): Promise<boolean> {
  const info = await readInfo(client, "persistence");
  if (infoNumber(info, "rdb_bgsave_in_progress") !== 0) return false;
  if ((await client.lastsave()) > before) return true;
  // Not running and not advanced: still scheduled behind another child, or it failed. An
  // "err" status only speaks for our save if it started at once; otherwise it may be an older one's.
  if (started && info.get("rdb_last_bgsave_status") === "err") {
    throw sourceFailed(
      `BGSAVE on Redis at ${where} failed (rdb_last_bgsave_status:err); check the Redis log, ` +
        "usually the disk is full or the data directory is not writable",
    );
  }
  return false;
}
