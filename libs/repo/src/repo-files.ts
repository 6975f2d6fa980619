import { createHash } from "node:crypto";
import type { Backend, FileType } from "./backend/backend.js";
import { compressBlob, decompressBlob } from "./compression/codec.js";
import { open, sealParts } from "./crypto/envelope.js";
import { RepoError } from "./errors.js";

export type JsonFileType = Extract<FileType, "index" | "snapshots" | "locks">;

const AAD: Record<JsonFileType, Buffer> = {
  index: Buffer.from("index"),
  snapshots: Buffer.from("snapshot"),
  locks: Buffer.from("lock"),
};

/** Encrypts JSON into a content-named file (§2): name = SHA-256 of the stored bytes. */
export async function saveJsonFile(
  backend: Backend,
  encKey: Uint8Array,
  type: JsonFileType,
  json: Uint8Array,
): Promise<string> {
  const framed = compressBlob(json, "zstd");
  // The framed length travels in the envelope so the reader can bound decompression.
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length, 0);
  const parts = sealParts(encKey, [length, ...framed], AAD[type]);
  const hash = createHash("sha256");
  for (const p of parts) hash.update(p);
  const name = hash.digest("hex");
  await backend.save({ type, name }, parts);
  return name;
}

/** Loads, verifies (name = hash of bytes) and decrypts a JSON file. */
export async function loadJsonFile(
  backend: Backend,
  encKey: Uint8Array,
  type: JsonFileType,
  name: string,
): Promise<unknown> {
  const what = `${type}/${name.slice(0, 12)}`;
  const bytes = await backend.load({ type, name });
  if (createHash("sha256").update(bytes).digest("hex") !== name) {
    throw new RepoError("data_corrupt", `${what} does not match its name: the file is damaged`);
  }
  const plain = open(encKey, bytes, AAD[type], what);
  if (plain.length < 5) throw new RepoError("data_corrupt", `${what} is truncated`);
  const json = decompressBlob(plain.subarray(4), plain.readUInt32LE(0), what);
  try {
    return JSON.parse(json.toString("utf8"));
  } catch {
    throw new RepoError("data_corrupt", `${what} is not valid JSON`);
  }
}
