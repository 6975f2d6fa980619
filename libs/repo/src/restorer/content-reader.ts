import { RepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import type { TreeNode } from "../tree/tree-node.js";

/** What restore, dump and browse need from a repository (loadBlob verifies every blob, §3). */
export type ReadRepository = Pick<Repository, "loadBlob" | "loadIndex" | "index" | "blobId">;

/** One blob of a file's content at its offset; `data` is undefined when the blob is all zero bytes. */
export interface ContentPiece {
  offset: number;
  length: number;
  data: Buffer | undefined;
}

/**
 * Blob ids already loaded, verified and found to hold only zero bytes, with
 * their length. A sparse file's holes are many copies of one zero blob: it is
 * loaded and verified once, later copies are skipped without reading them.
 */
export type ZeroBlobs = Map<string, number>;

// Blobs loaded ahead of the one being written: overlaps reading the
// repository with writing the target, bounded to a few blobs of memory.
const LOOKAHEAD = 4;

let zeros = Buffer.alloc(0);

/** A read-only buffer of at least `length` zero bytes. */
export function zeroBytes(length: number): Buffer {
  if (zeros.length < length) zeros = Buffer.alloc(Math.max(length, 1024 * 1024));
  return zeros.subarray(0, length);
}

export function isAllZero(buf: Buffer): boolean {
  return buf.equals(zeroBytes(buf.length));
}

/**
 * A file node's content, blob by blob, in order, each blob verified by
 * `loadBlob`. Fails with `data_corrupt` when the blobs do not add up to the
 * node's size, so a caller never takes short content for the whole file.
 */
export async function* readContent(
  repo: Pick<Repository, "loadBlob">,
  node: TreeNode,
  knownZero: ZeroBlobs = new Map(),
): AsyncGenerator<ContentPiece> {
  const ids = node.content ?? [];
  const inFlight = new Map<string, Promise<Buffer>>();
  const prefetch = (i: number) => {
    const id = ids[i];
    if (id === undefined || knownZero.has(id) || inFlight.has(id)) return;
    const p = repo.loadBlob(id, "data");
    // Awaited below; this keeps a failure of a blob never reached from being unhandled.
    p.catch(() => {});
    inFlight.set(id, p);
  };
  let offset = 0;
  for (let i = 0; i < ids.length; i++) {
    for (let j = i; j < i + LOOKAHEAD; j++) prefetch(j);
    const id = ids[i] as string;
    let length = knownZero.get(id);
    let data: Buffer | undefined;
    if (length === undefined) {
      data = await (inFlight.get(id) as Promise<Buffer>);
      length = data.length;
      if (isAllZero(data)) {
        knownZero.set(id, length);
        data = undefined;
      }
    }
    if (!ids.slice(i + 1, i + 1 + LOOKAHEAD).includes(id)) inFlight.delete(id);
    yield { offset, length, data };
    offset += length;
  }
  if (offset !== node.size) {
    throw new RepoError(
      "data_corrupt",
      `the content of ${JSON.stringify(node.name ?? node.nameB64)} adds up to ${offset} bytes, but the tree says ${node.size}`,
    );
  }
}
