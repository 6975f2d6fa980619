import { realpath } from "node:fs/promises";
import type { Redis } from "ioredis";
import { invalidArgument } from "./failure.js";
import { readServerVersion } from "./info.js";
import { type RedisLayout, readLayout } from "./layout.js";

/** The running Redis a restore goes into. */
export interface RestoreTarget {
  version: string;
  layout: RedisLayout;
}

export async function readTarget(client: Redis, where: string): Promise<RestoreTarget> {
  return { version: await readServerVersion(client), layout: await readLayout(client, where) };
}

/**
 * Installing into a directory Redis does not read, or for the wrong
 * persistence mode, would "succeed" and leave Redis on its old data.
 */
export async function assertTargetMatches(
  target: RestoreTarget,
  options: { dataDir: string; appendonly: boolean },
  where: string,
): Promise<void> {
  if (target.layout.appendonly !== options.appendonly) {
    throw invalidArgument(
      `Redis at ${where} runs with appendonly ${target.layout.appendonly ? "yes" : "no"}, but the restore was ` +
        `told appendonly ${options.appendonly ? "yes" : "no"}; fix the host's Redis settings or the restore options`,
    );
  }
  // A `dir` that does not exist here is a path inside a container: then dataDir is all we know.
  const theirs = await realpath(target.layout.dir).catch(() => undefined);
  const ours = await realpath(options.dataDir).catch(() => options.dataDir);
  if (theirs !== undefined && ours !== theirs) {
    throw invalidArgument(
      `Redis at ${where} reads its data from ${target.layout.dir}, not from dataDir ${options.dataDir}; ` +
        "point dataDir at Redis's `dir`",
    );
  }
}

/** The backed-up manifest is named after its Redis's appendfilename; a different one would not find it. */
export function assertAofNamesMatch(backedUp: string | undefined, layout: RedisLayout, where: string): void {
  if (backedUp === undefined || backedUp === layout.appendfilename) return;
  throw invalidArgument(
    `the backup's AOF is named ${backedUp}, but Redis at ${where} uses appendfilename ${layout.appendfilename}; ` +
      `set appendfilename to ${backedUp} on the target before restoring`,
  );
}
