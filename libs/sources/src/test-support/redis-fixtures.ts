import { Backup, LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir, type RedisServer } from "@pwdr/test-harness";
import { Redis } from "ioredis";
import type { RedisConnection } from "../redis/connection.js";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";

/** Cheap scrypt parameters: tests open several repositories. */
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const PASSWORD = "redis test repository";

export async function redisTestRepository(): Promise<Repository> {
  const backend = new LocalBackend(`${await makeTempDir("pwdr-redis-repo-")}/repo`);
  return Repository.init(backend, PASSWORD, { kdf: FAST_KDF });
}

export function connectionOf(server: RedisServer): RedisConnection {
  return { host: server.host, port: server.port };
}

export async function withClient<T>(server: RedisServer, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

/** Runs one source backup into its own snapshot and returns the snapshot id with the source's result. */
export async function snapshotOf(
  repo: Repository,
  run: (ctx: SourceBackupContext) => Promise<SourceBackupResult>,
): Promise<{ id: string; result: SourceBackupResult }> {
  const backup = await Backup.start(repo, { source: { kind: "redis", name: "redis" } });
  try {
    const result = await run({ backup });
    const { id } = await backup.finish();
    return { id, result };
  } catch (err) {
    await backup.abort();
    throw err;
  }
}

/** Every value type, keys with and without TTLs, a binary key, in db0 and db3. */
export async function fillRedis(server: RedisServer): Promise<void> {
  await withClient(server, async (client) => {
    for (const db of [0, 3]) {
      await client.select(db);
      const p = client.pipeline();
      for (let i = 0; i < 40; i++) p.set(`str:${db}:${i}`, `value-${i}-${"x".repeat(i)}`);
      p.hset(`hash:${db}`, { a: "1", b: "two", c: "3.5" });
      p.rpush(`list:${db}`, "a", "b", "c", "a");
      p.sadd(`set:${db}`, "x", "y", "z");
      p.zadd(`zset:${db}`, 1, "one", 2.5, "two-and-half", -3, "minus-three");
      p.set(`ttl:${db}:long`, "expires later", "PX", 600_000);
      p.hset(`ttl:${db}:hash`, { f: "v" });
      p.pexpire(`ttl:${db}:hash`, 300_000);
      p.set(Buffer.from([0xff, 0x00, db]), Buffer.from([1, 2, 3]));
      await p.exec();
    }
  });
}

/** Type and value of every key of the given databases, in a form `toEqual` can compare. */
export async function readDataset(
  server: RedisServer,
  dbs: number[] = [0, 3],
): Promise<Record<string, unknown>> {
  return withClient(server, async (client) => {
    const out: Record<string, unknown> = {};
    for (const db of dbs) {
      await client.select(db);
      for (const key of (await client.keysBuffer("*")).sort(Buffer.compare)) {
        out[`db${db}:${key.toString("hex")}`] = await readValue(client, key);
      }
    }
    return out;
  });
}

async function readValue(client: Redis, key: Buffer): Promise<unknown> {
  const type = await client.type(key);
  switch (type) {
    case "string":
      return [type, (await client.getBuffer(key))?.toString("hex")];
    case "hash":
      return [type, await client.hgetall(key)];
    case "list":
      return [type, await client.lrange(key, 0, -1)];
    case "set":
      return [type, (await client.smembers(key)).sort()];
    case "zset":
      return [type, await client.zrange(key, "0", "-1", "WITHSCORES")];
    default:
      return [type];
  }
}

/**
 * The host's stop/start hooks as a test plays them: stop = SIGTERM and wait
 * for the process to be gone (the harness's own stop() would delete the data
 * dir); start = the harness restart(), which starts it again on its config.
 */
export function serviceHooks(server: RedisServer): {
  stop(): Promise<void>;
  start(): Promise<void>;
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    async stop() {
      calls.push("stop");
      const pid = server.pid;
      if (pid === undefined) return;
      process.kill(pid, "SIGTERM");
      await waitForExit(pid);
    },
    async start() {
      calls.push("start");
      await server.restart();
    },
  };
}

async function waitForExit(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server ${pid} did not exit within 10 s of SIGTERM`);
}
