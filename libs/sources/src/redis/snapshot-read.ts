import { createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { dumpFile, loadSnapshot, type Repository, type SnapshotEntry } from "@pwdr/repo";
import { invalidArgument } from "./failure.js";
import { decodeRecord, type RedisBackupRecord, SNAPSHOT_PATHS } from "./record.js";

const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** The snapshot and the Redis record inside it; a snapshot of something else is refused. */
export async function loadRedisSnapshot(
  repo: Repository,
  snapshotId: string,
): Promise<{ snapshot: SnapshotEntry; record: RedisBackupRecord }> {
  const snapshot = await loadSnapshot(repo, snapshotId);
  if (snapshot.source && snapshot.source.kind !== "redis") {
    throw invalidArgument(`snapshot ${snapshotId} is a ${snapshot.source.kind} backup, not a Redis one`);
  }
  const bytes = await readSmallFile(repo, snapshot, SNAPSHOT_PATHS.record).catch((err: unknown) => {
    throw invalidArgument(
      `snapshot ${snapshotId} has no readable ${SNAPSHOT_PATHS.record}, so it is not a Redis backup ` +
        `of this program (${(err as Error).message})`,
    );
  });
  return { snapshot, record: decodeRecord(bytes, snapshotId) };
}

async function readSmallFile(repo: Repository, snapshot: SnapshotEntry, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > MAX_RECORD_BYTES) return done(new Error(`${path} is larger than ${MAX_RECORD_BYTES} bytes`));
      chunks.push(chunk);
      done();
    },
  });
  await dumpFile(repo, snapshot, path, sink);
  return Buffer.concat(chunks);
}

/** Writes a file of the snapshot to `target` and syncs it, so a crash after installing cannot leave it empty. */
export async function extractFile(
  repo: Repository,
  snapshot: SnapshotEntry,
  path: string,
  target: string,
): Promise<number> {
  const out = createWriteStream(target, { mode: 0o600 });
  const { bytes } = await dumpFile(repo, snapshot, path, out);
  out.end();
  await finished(out);
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return bytes;
}
