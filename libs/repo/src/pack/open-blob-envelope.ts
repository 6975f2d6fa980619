import { type DeltaDictionary, decompressBlob } from "../compression/codec.js";
import { open } from "../crypto/envelope.js";
import { RepoError } from "../errors.js";
import type { Repository } from "../repository.js";
import type { PackEntry } from "./pack-format.js";

/**
 * Decrypts and decompresses one blob envelope taken from a pack and checks
 * that the plaintext hashes to the blob's id (§3), as Repository.loadBlob
 * does; for callers that read whole packs (check --read-data, prune's repack).
 * A delta-coded blob (§5.1) needs its dictionary, its bases' plaintext.
 */
export function openBlobEnvelope(
  repo: Pick<Repository, "key" | "blobId">,
  entry: Pick<PackEntry, "id" | "rawLength">,
  envelope: Buffer,
  what: string,
  dictionary?: DeltaDictionary,
): Buffer {
  const plain = decompressBlob(
    open(repo.key.encKey, envelope, Buffer.from(entry.id, "hex"), what),
    entry.rawLength,
    what,
    dictionary,
  );
  if (repo.blobId(plain) !== entry.id) throw new RepoError("data_corrupt", `${what} does not match its id`);
  return plain;
}
