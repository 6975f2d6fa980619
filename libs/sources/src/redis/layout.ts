import { access, constants } from "node:fs/promises";
import type { Redis } from "ioredis";
import { invalidArgument, redisFailure } from "./failure.js";

/** Where a running Redis keeps its files, from CONFIG GET. */
export interface RedisLayout {
  dir: string;
  dbfilename: string;
  appendonly: boolean;
  appenddirname: string;
  appendfilename: string;
}

export async function readLayout(client: Redis, where: string): Promise<RedisLayout> {
  try {
    return {
      dir: await configGet(client, "dir", ""),
      dbfilename: await configGet(client, "dbfilename", "dump.rdb"),
      appendonly: (await configGet(client, "appendonly", "no")) === "yes",
      appenddirname: await configGet(client, "appenddirname", "appendonlydir"),
      appendfilename: await configGet(client, "appendfilename", "appendonly.aof"),
    };
  } catch (err) {
    throw redisFailure(`cannot read the persistence settings of Redis at ${where}`, err, {
      hint: "CONFIG GET must be allowed for the backup user (it may be renamed or disabled)",
    });
  }
}

async function configGet(client: Redis, name: string, fallback: string): Promise<string> {
  const reply = (await client.config("GET", name)) as string[];
  return reply[1] ?? fallback;
}

/**
 * The directory to read files from: Redis's own `dir` when this process can
 * read it (it is the truth), else the configured dataDir (e.g. Redis runs in a
 * container and reports its in-container path).
 */
export async function readableDataDir(layout: RedisLayout, dataDir: string | undefined): Promise<string> {
  for (const candidate of [layout.dir, dataDir]) {
    if (candidate && (await isReadableDir(candidate))) return candidate;
  }
  throw invalidArgument(
    `cannot read the Redis data directory (Redis reports "${layout.dir}", dataDir is ` +
      `"${dataDir ?? "not set"}"); mount it readable here or use the logical backup mode`,
  );
}

async function isReadableDir(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
