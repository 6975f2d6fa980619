import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { MasterKey } from "./master-key.js";

/** A password as the catalog stores it (Repository.passwordCiphertext / passwordKeyId). */
export interface SealedPassword {
  ciphertext: Uint8Array<ArrayBuffer>;
  keyId: string;
}

export class SealedPasswordError extends Error {
  readonly code = "sealed_password_unreadable";
  constructor(message: string) {
    super(message);
    this.name = "SealedPasswordError";
  }
}

const VERSION = 1;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

// The repository name is authenticated with the ciphertext, so a ciphertext
// copied onto another catalog row does not decrypt there.
const context = (repository: string) => Buffer.from(`pwdr repository password\0${repository}`);

/** AES-256-GCM: version byte, random nonce, ciphertext, tag. */
export function sealPassword(key: MasterKey, repository: string, password: string): SealedPassword {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key.key, nonce).setAAD(context(repository));
  const body = Buffer.concat([cipher.update(password, "utf8"), cipher.final()]);
  return {
    ciphertext: Buffer.concat([Buffer.of(VERSION), nonce, body, cipher.getAuthTag()]),
    keyId: key.id,
  };
}

export function unsealPassword(key: MasterKey, repository: string, sealed: SealedPassword): string {
  if (sealed.keyId !== key.id) {
    throw new SealedPasswordError(
      `the password of repository ${repository} was sealed with master key ${sealed.keyId}, but this controller has ${key.id}; restore secrets/master.key from the data dir that created it`,
    );
  }
  const data = Buffer.from(sealed.ciphertext);
  if (data[0] !== VERSION || data.length < 1 + NONCE_BYTES + TAG_BYTES) {
    throw new SealedPasswordError(`the stored password of repository ${repository} is malformed`);
  }
  const nonce = data.subarray(1, 1 + NONCE_BYTES);
  const tag = data.subarray(data.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key.key, nonce).setAAD(context(repository));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([
      decipher.update(data.subarray(1 + NONCE_BYTES, -TAG_BYTES)),
      decipher.final(),
    ]).toString("utf8");
  } catch {
    throw new SealedPasswordError(
      `the stored password of repository ${repository} does not decrypt (altered, or moved from another row)`,
    );
  }
}
