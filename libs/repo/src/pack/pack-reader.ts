import type { BackendReader } from "../backend/backend.js";
import { open } from "../crypto/envelope.js";
import { RepoError } from "../errors.js";
import { decodeEntries, HEADER_AAD, type PackEntry } from "./pack-format.js";

/** Reads the blob list at the end of a pack (used by check and to adopt unindexed packs after a crash). */
export async function readPackHeader(
  backend: BackendReader,
  encKey: Uint8Array,
  packId: string,
): Promise<PackEntry[]> {
  const handle = { type: "data" as const, name: packId };
  const info = await backend.stat(handle);
  const what = `pack ${packId.slice(0, 12)}`;
  if (!info) throw new RepoError("blob_missing", `${what} does not exist`);
  if (info.size < 4) throw new RepoError("data_corrupt", `${what} is truncated (${info.size} bytes)`);
  const tail = await backend.load(handle, { offset: info.size - 4, length: 4 });
  const headerLength = tail.readUInt32LE(0);
  if (headerLength + 4 > info.size)
    throw new RepoError("data_corrupt", `${what} has an impossible header length`);
  const envelope = await backend.load(handle, { offset: info.size - 4 - headerLength, length: headerLength });
  const plain = open(encKey, envelope, HEADER_AAD, `${what} header`);
  let json: unknown;
  try {
    json = JSON.parse(plain.toString("utf8"));
  } catch {
    throw new RepoError("data_corrupt", `${what} header is not valid JSON`);
  }
  const entries = decodeEntries(json, what);
  const end = info.size - 4 - headerLength;
  for (const e of entries) {
    if (e.offset + e.length > end)
      throw new RepoError("data_corrupt", `${what}: blob ${e.id.slice(0, 12)} lies outside the pack`);
  }
  return entries;
}
