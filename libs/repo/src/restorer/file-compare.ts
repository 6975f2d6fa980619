import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { TreeNode } from "../tree/tree-node.js";
import { isAllZero, type ReadRepository, type ZeroBlobs } from "./content-reader.js";

/**
 * Whether the regular file at `path` holds exactly a node's content. It is
 * read in the node's blob boundaries and each piece is hashed to a blob id
 * and compared, so nothing is loaded from the repository.
 */
export async function hasContent(
  repo: Pick<ReadRepository, "index" | "blobId">,
  path: Buffer,
  node: TreeNode,
  knownZero: ZeroBlobs,
): Promise<boolean> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if ((await fh.stat()).size !== node.size) return false;
    let buf = Buffer.alloc(0);
    let pos = 0;
    for (const id of node.content ?? []) {
      const zeroLength = knownZero.get(id);
      const length = zeroLength ?? repo.index.lookup(id)[0]?.rawLength;
      if (length === undefined) return false;
      if (buf.length < length) buf = Buffer.allocUnsafe(length);
      const piece = buf.subarray(0, length);
      const { bytesRead } = await fh.read(piece, 0, length, pos);
      if (bytesRead !== length) return false;
      if (zeroLength !== undefined ? !isAllZero(piece) : repo.blobId(piece) !== id) return false;
      pos += length;
    }
    return pos === node.size;
  } finally {
    await fh.close();
  }
}
