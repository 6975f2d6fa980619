import { createHmac, randomBytes } from "node:crypto";

/** The repository's secrets: `encKey` encrypts everything, `idKey` keys blob ids (§3). */
export interface MasterKey {
  encKey: Buffer;
  idKey: Buffer;
}

export const MASTER_KEY_BYTES = 64;

export function generateMasterKey(): MasterKey {
  return masterKeyFromBytes(randomBytes(MASTER_KEY_BYTES));
}

export function masterKeyFromBytes(bytes: Uint8Array): MasterKey {
  const b = Buffer.from(bytes);
  return { encKey: b.subarray(0, 32), idKey: b.subarray(32, 64) };
}

export function masterKeyBytes(key: MasterKey): Buffer {
  return Buffer.concat([key.encKey, key.idKey]);
}

/** A blob id: HMAC-SHA-256 of the plaintext under the id key, so ids reveal nothing without the password. */
export function blobId(idKey: Uint8Array, plaintext: Uint8Array): Buffer {
  return createHmac("sha256", idKey).update(plaintext).digest();
}
