import { postgresConnection, redisConnection } from "./connections.js";
import type { PostgresSourceDefinition, RedisSourceDefinition, SourceDefinition } from "./host-definition.js";

/** What a source's server says about itself. */
export interface ServerFacts {
  /** PostgreSQL's server_version ("16.4"), Redis's redis_version ("7.2.4"). */
  version: string;
  /** Where the server keeps its data, when it tells (PostgreSQL's data_directory needs a privileged role). */
  dataDirectory?: string;
}

const DEFAULT_TIMEOUT_MS = 3_000;

/**
 * Asks a PostgreSQL or Redis source's server for its version; undefined for
 * file sources. Bounded by `timeoutMs`, so a stopped server costs the caller
 * at most that; its error says why it could not be asked.
 */
export async function serverFacts(
  def: SourceDefinition,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<ServerFacts | undefined> {
  if (def.kind === "postgres") return postgresFacts(def, timeoutMs);
  if (def.kind === "redis") return redisFacts(def, timeoutMs);
  return undefined;
}

async function postgresFacts(def: PostgresSourceDefinition, timeoutMs: number): Promise<ServerFacts> {
  const { binDir: _binDir, ...connection } = await postgresConnection(def);
  const { Client } = (await import("pg")).default;
  const client = new Client({
    ...connection,
    database: connection.database ?? "postgres",
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const version = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    const dir = await client
      .query<{ d: string }>("SELECT current_setting('data_directory') AS d")
      .catch(() => undefined);
    const dataDirectory = dir?.rows[0]?.d;
    return { version: version.rows[0]?.v ?? "unknown", ...(dataDirectory ? { dataDirectory } : {}) };
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisFacts(def: RedisSourceDefinition, timeoutMs: number): Promise<ServerFacts> {
  const { Redis } = await import("ioredis");
  const client = new Redis({
    ...(await redisConnection(def)),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => {});
  try {
    await client.connect();
    const info = await client.info("server");
    const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown";
    return { version, ...(def.dataDir ? { dataDirectory: def.dataDir } : {}) };
  } finally {
    client.disconnect();
  }
}
