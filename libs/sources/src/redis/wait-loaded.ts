import { endpoint, openRedis, type RedisConnection } from "./connection.js";
import { sourceFailed } from "./failure.js";
import { infoNumber, readInfo } from "./info.js";
import { type PollTiming, pollUntil } from "./poll.js";

/**
 * Waits until a just-started Redis accepts connections and has finished
 * loading its RDB/AOF (`loading:0`); until then connection errors are "not yet".
 */
export async function waitUntilLoaded(connection: RedisConnection, timing: PollTiming): Promise<void> {
  const loaded = await pollUntil(() => isLoaded(connection), timing);
  if (!loaded) {
    throw sourceFailed(
      `Redis at ${endpoint(connection)} did not come up with its data loaded within ${timing.timeoutMs} ms ` +
        "after the start hook; check the Redis log (a damaged AOF or RDB stops it from starting)",
    );
  }
}

async function isLoaded(connection: RedisConnection): Promise<boolean> {
  try {
    const client = await openRedis(connection, { waitWhileLoading: false });
    try {
      return infoNumber(await readInfo(client, "persistence"), "loading") === 0;
    } finally {
      client.disconnect();
    }
  } catch {
    return false;
  }
}
