import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  ftruncateSync,
  futimesSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import type { TreeNode } from "../tree/tree-node.js";
import type { ContentPiece } from "./content-reader.js";
import { isMetadataRefusal, mtimeSeconds } from "./restore-fs.js";

/** Files up to this size are written with synchronous calls once their content is in memory. */
export const SMALL_FILE_BYTES = 512 * 1024;

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export interface SmallFileJob {
  /** Where the file is written and then renamed from; without it the file is written at `path` itself. */
  temp: Buffer | undefined;
  path: Buffer;
  node: TreeNode;
  pieces: readonly ContentPiece[];
  /** Set the owner (when restoring owners and the file would not already have it). */
  chown: boolean;
  /** Records a metadata change the file system refused; the file itself is still placed. */
  onRefused(what: string, err: unknown): void;
}

/**
 * Writes a small file (under a temporary name renamed into place, when one
 * is given) in a handful of direct system calls. For thousands of small
 * files this beats the promise API, whose every call is a round trip
 * through the thread pool. On failure nothing is left at either name.
 */
export function writeSmallFile(job: SmallFileJob): void {
  const written = job.temp ?? job.path;
  const fd = openSync(written, CREATE_FLAGS, 0o600);
  let placed = false;
  try {
    let end = 0;
    for (const piece of job.pieces) {
      if (!piece.data) continue;
      let done = 0;
      while (done < piece.data.length)
        done += writeSync(fd, piece.data, done, piece.data.length - done, piece.offset + done);
      end = piece.offset + piece.length;
    }
    if (end < job.node.size) ftruncateSync(fd, job.node.size);
    soft(job, "owner", () => job.chown && fchownSync(fd, job.node.uid, job.node.gid));
    soft(job, "mode", () => fchmodSync(fd, job.node.mode & 0o7777));
    const t = mtimeSeconds(job.node);
    soft(job, "mtime", () => futimesSync(fd, t, t));
    closeSync(fd);
    if (job.temp) renameSync(job.temp, job.path);
    placed = true;
  } finally {
    if (!placed) {
      try {
        closeSync(fd);
      } catch {
        // already closed before the rename failed
      }
      try {
        unlinkSync(written);
      } catch {
        // nothing to clean up
      }
    }
  }
}

function soft(job: SmallFileJob, what: string, fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    if (!isMetadataRefusal(err)) throw err;
    job.onRefused(what, err);
  }
}
