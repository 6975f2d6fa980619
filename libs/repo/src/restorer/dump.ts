import { displayPath, resolveSnapshotPath } from "../browse/snapshot-path.js";
import { RepoError } from "../errors.js";
import type { LockRepository } from "../lock/list-locks.js";
import { withLock } from "../lock/with-lock.js";
import type { Snapshot } from "../snapshot/snapshot.js";
import { nodeTargetBytes } from "../tree/tree-node.js";
import { type ReadRepository, readContent, zeroBytes } from "./content-reader.js";
import { DEFAULT_READ_LOCK_WAIT_MS } from "./restorer.js";

/** Where dump writes: process.stdout, a file stream, a PassThrough. */
export type DumpOutput = NodeJS.WritableStream;

/**
 * Streams the content of the file at `path` inside a snapshot to `out`
 * (restic's `dump`), blob by blob, each verified, honouring back-pressure.
 * Does not end `out`. Fails with `path_not_found` when the path is not in the
 * snapshot and `invalid_argument` when it is a directory or not a regular file.
 * A damaged blob fails with `data_corrupt` after the bytes before it were written.
 */
/** Writes one file of a snapshot to `out`, under a shared lock like a restore. */
export function dumpFile(
  repo: ReadRepository & LockRepository,
  snapshot: Pick<Snapshot, "tree">,
  path: string | Buffer,
  out: DumpOutput,
): Promise<{ bytes: number }> {
  const lock = { exclusive: false, operation: "dump", waitMs: DEFAULT_READ_LOCK_WAIT_MS };
  return withLock(repo, lock, () => dumpLocked(repo, snapshot, path, out));
}

async function dumpLocked(
  repo: ReadRepository,
  snapshot: Pick<Snapshot, "tree">,
  path: string | Buffer,
  out: DumpOutput,
): Promise<{ bytes: number }> {
  await repo.loadIndex();
  const { node, components } = await resolveSnapshotPath(repo, snapshot, path);
  const shown = displayPath(components);
  if (node.type === "dir") {
    throw new RepoError(
      "invalid_argument",
      `${shown} is a directory; dump writes a single file (use restore for directories)`,
    );
  }
  if (node.type === "symlink") {
    throw new RepoError(
      "invalid_argument",
      `${shown} is a symbolic link to ${nodeTargetBytes(node).toString("utf8")}; dump the file it points to instead`,
    );
  }
  if (node.type !== "file") throw new RepoError("invalid_argument", `${shown} is a ${node.type}, not a file`);
  // Listens for the whole dump, so an error the stream reports between writes is not lost (or unhandled).
  let failure: Error | undefined;
  const onError = (err: Error) => {
    failure ??= err;
  };
  out.on("error", onError);
  try {
    let bytes = 0;
    for await (const piece of readContent(repo, node)) {
      await write(out, piece.data ?? zeroBytes(piece.length), () => failure);
      bytes += piece.length;
    }
    if (failure) throw failure;
    return { bytes };
  } finally {
    out.off("error", onError);
  }
}

function write(out: DumpOutput, chunk: Buffer, failed: () => Error | undefined): Promise<void> {
  const early = failed() ?? (out as { errored?: Error | null }).errored;
  if (early) return Promise.reject(early);
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      out.off("drain", onDrain);
      out.off("error", onError);
      out.off("close", onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => settle();
    const onError = (err: Error) => settle(err);
    const onClose = () =>
      settle(failed() ?? new Error("the output was closed before the whole file was written"));
    out.on("error", onError);
    out.on("close", onClose);
    if (out.write(chunk)) settle();
    else out.on("drain", onDrain);
  });
}
