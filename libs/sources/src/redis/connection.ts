import type { Redis } from "ioredis";
import { redisFailure } from "./failure.js";

/** Where a Redis listens. The password is only ever handed to the client, never put in a message. */
export interface RedisConnection {
  host: string;
  port: number;
  password?: string;
}

const CONNECT_TIMEOUT_MS = 5_000;

export function endpoint(connection: RedisConnection): string {
  return `${connection.host}:${connection.port}`;
}

/**
 * A client that fails fast instead of reconnecting behind our back: a backup
 * or restore step must see a Redis that went away, not hang in a retry loop.
 * `waitWhileLoading: false` connects to a Redis still loading its data (for
 * polling INFO while it loads).
 */
export async function openRedis(
  connection: RedisConnection,
  options: { waitWhileLoading?: boolean } = {},
): Promise<Redis> {
  // Loaded on first use: most of what loads this module never connects.
  const { Redis: RedisClient } = await import("ioredis");
  const client = new RedisClient({
    host: connection.host,
    port: connection.port,
    ...(connection.password === undefined ? {} : { password: connection.password }),
    lazyConnect: true,
    // ioredis's ready check holds a connection to a loading Redis back for a second or more.
    enableReadyCheck: options.waitWhileLoading ?? true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    return client;
  } catch (err) {
    client.disconnect();
    throw redisFailure(`cannot connect to Redis at ${endpoint(connection)}`, err, {
      hint: "check that it is running, listening there, and that the password is right",
    });
  }
}

export async function withRedis<T>(
  connection: RedisConnection,
  use: (client: Redis) => Promise<T>,
): Promise<T> {
  const client = await openRedis(connection);
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}
