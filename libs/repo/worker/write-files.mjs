// Writes small restored files on a blob worker (plain JavaScript, imported
// by blob-worker.mjs). It mirrors writeSmallFile (src/restorer/
// small-file-writer.ts) and isMetadataRefusal (src/restorer/restore-fs.ts);
// small-file-batch.test.ts proves the files come out the same.
//
// Why here and not on the main thread: creating a file (open with O_CREAT)
// took 0.1-0.4 ms each on the benchmark machine's ext4 (BENCHMARKS.md), and
// a restore creates thousands. On the main thread that stalled everything
// else (43 % of a full restore's main-thread time); two workers create files
// side by side while the main thread reads packs.
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
import { release } from "./release.mjs";

const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const REFUSALS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "EINVAL"]);

/** Whether every byte is zero: such a blob is left as a hole, as the main thread does. */
function allZero(buf) {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * Decodes a file's blobs with `openBlob` (decrypt, decompress, check the id),
 * all before anything is created, so a damaged blob leaves nothing behind and
 * the main thread can retry the file from another copy.
 * Returns { pieces: [{ offset, bytes | undefined }], plains } or { blobError };
 * `plains` are the decoded buffers, to be released once written.
 */
function decode(file, ranges, openBlob) {
  const pieces = [];
  const plains = [];
  let offset = 0;
  for (const b of file.blobs) {
    let plain;
    try {
      // A view of the range's ArrayBuffer, not a copy.
      plain = openBlob(b.id, Buffer.from(ranges[b.range], b.offset, b.length), b.rawLength);
    } catch (err) {
      release(plains);
      return { blobError: { code: err.code ?? "data_corrupt", message: err.message ?? String(err) } };
    }
    // The whole buffer the plaintext lies in (an uncompressed blob is a view
    // past its codec byte). release() frees only whole buffers of 64 KiB or
    // more, so Buffer's shared 8 KiB pool of small allocations is left alone.
    plains.push(new Uint8Array(plain.buffer));
    pieces.push({ offset, bytes: allZero(plain) ? undefined : plain });
    offset += plain.length;
  }
  if (offset !== file.size) {
    release(plains);
    return {
      blobError: {
        code: "data_corrupt",
        message: `the content adds up to ${offset} bytes, but the tree says ${file.size}`,
      },
    };
  }
  return { pieces, plains };
}

function soft(issues, what, fn) {
  try {
    fn();
  } catch (err) {
    if (!REFUSALS.has(err.code)) throw err;
    issues.push({ what, message: err.message });
  }
}

/** Creates, fills and finishes one file (under `temp`, then renamed, when given); removes it on failure. */
function writeOne(file, pieces) {
  // Paths travel as latin1 strings: one char per byte, so any name survives exactly.
  const path = Buffer.from(file.path, "latin1");
  const temp = file.temp === undefined ? undefined : Buffer.from(file.temp, "latin1");
  const written = temp ?? path;
  const issues = [];
  const fd = openSync(written, CREATE_FLAGS, 0o600);
  let placed = false;
  try {
    let end = 0;
    for (const p of pieces) {
      if (!p.bytes) continue;
      let done = 0;
      while (done < p.bytes.length)
        done += writeSync(fd, p.bytes, done, p.bytes.length - done, p.offset + done);
      end = p.offset + p.bytes.length;
    }
    if (end < file.size) ftruncateSync(fd, file.size);
    // Owner first: chown clears setuid/setgid, so the mode is set after it.
    if (file.chown) soft(issues, "owner", () => fchownSync(fd, file.uid, file.gid));
    soft(issues, "mode", () => fchmodSync(fd, file.mode));
    soft(issues, "mtime", () => futimesSync(fd, file.mtime, file.mtime));
    closeSync(fd);
    if (temp) renameSync(temp, path);
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
  return issues;
}

/**
 * One result per file, in order: { issues } when written (metadata the file
 * system refused), { blobError } when a blob could not be decoded (nothing
 * was created), { fsError } when the file could not be written (nothing is
 * left of it).
 */
export function writeFiles(msg, openBlob) {
  return msg.files.map((file) => {
    const decoded = decode(file, msg.ranges, openBlob);
    if (decoded.blobError) return decoded;
    try {
      return { issues: writeOne(file, decoded.pieces) };
    } catch (err) {
      return {
        fsError: { code: err.code, syscall: err.syscall, errno: err.errno, message: err.message },
      };
    } finally {
      // Freed now rather than at a collection this thread would start late
      // (few JS objects, megabytes of buffers: release.mjs); +90 MiB peak
      // RSS in a full restore otherwise.
      release(decoded.plains);
    }
  });
}
