import { join } from "node:path";
import type { Backup } from "@pwdr/repo";
import type { Redis } from "ioredis";
import { filesToLoad, parseAofManifest } from "./aof-manifest.js";
import { waitForNoAofRewrite } from "./aof-rewrite.js";
import { sourceFailed } from "./failure.js";
import { bytesStream, openStream, readIfExists } from "./file-reads.js";
import type { RedisLayout } from "./layout.js";
import type { PollTiming } from "./poll.js";
import { type AofRecord, SNAPSHOT_PATHS } from "./record.js";

const ATTEMPTS = 5;

/**
 * Copies the multi-part AOF: the manifest is read first and exactly the files
 * it lists are copied, then the manifest is read again. If an AOF rewrite
 * swapped the set meanwhile (the manifest changed, or a listed file vanished),
 * the copy is retried; the manifest is stored last, so the snapshot's manifest
 * always names the set that was copied whole (files of an abandoned attempt
 * may remain in the snapshot, but nothing refers to them). The incremental file
 * may still grow while it is read; a command cut at its end is what
 * `aof-load-truncated yes` (the default) trims on load.
 */
export async function copyAof(
  backup: Backup,
  client: Redis,
  layout: RedisLayout,
  dataDir: string,
  where: string,
  timing: PollTiming,
): Promise<AofRecord & { bytes: number }> {
  const aofDir = join(dataDir, layout.appenddirname);
  const manifestName = `${layout.appendfilename}.manifest`;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    await waitForNoAofRewrite(client, where, timing);
    const manifest = await readIfExists(join(aofDir, manifestName));
    if (!manifest) {
      throw sourceFailed(
        `Redis at ${where} has appendonly yes but ${join(aofDir, manifestName)} does not exist; ` +
          "is dataDir the directory of this Redis?",
      );
    }
    const files = filesToLoad(parseAofManifest(manifest.toString("utf8")));
    const bytes = await copyListed(backup, aofDir, files);
    const after = await readIfExists(join(aofDir, manifestName));
    if (bytes !== undefined && after?.equals(manifest)) {
      await backup.addStream(`${SNAPSHOT_PATHS.aofDir}/${manifestName}`, bytesStream(manifest));
      return {
        dirname: layout.appenddirname,
        appendfilename: layout.appendfilename,
        manifest: manifestName,
        files,
        bytes,
      };
    }
  }
  throw sourceFailed(
    `the AOF of Redis at ${where} kept changing while it was copied (${ATTEMPTS} attempts); ` +
      "retry when Redis is less busy, or raise auto-aof-rewrite-min-size",
  );
}

/** Undefined when a listed file vanished: a rewrite replaced it, so the attempt is void. */
async function copyListed(
  backup: Backup,
  aofDir: string,
  files: readonly string[],
): Promise<number | undefined> {
  let total = 0;
  for (const file of files) {
    let opened: Awaited<ReturnType<typeof openStream>>;
    try {
      opened = await openStream(join(aofDir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    await backup.addStream(`${SNAPSHOT_PATHS.aofDir}/${file}`, opened.stream);
    total += opened.bytes;
  }
  return total;
}
