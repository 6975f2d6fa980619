import type { PgConnection, RedisConnection } from "@pwdr/sources";
import type { PostgresSourceDefinition, RedisSourceDefinition } from "./host-definition.js";
import { resolveSecret } from "./resolve-secret.js";

/** The connection of a PostgreSQL source, with its password read now. */
export async function postgresConnection(def: PostgresSourceDefinition): Promise<PgConnection> {
  const c = def.connection;
  const password = await resolveSecret(c, `source "${def.name}"`);
  return {
    host: c.host,
    port: c.port,
    user: c.user,
    ...(c.database ? { database: c.database } : {}),
    ...(c.binDir ? { binDir: c.binDir } : {}),
    ...(password === undefined ? {} : { password }),
  };
}

export async function redisConnection(def: RedisSourceDefinition): Promise<RedisConnection> {
  const c = def.connection;
  const password = await resolveSecret(c, `source "${def.name}"`);
  return { host: c.host, port: c.port, ...(password === undefined ? {} : { password }) };
}
