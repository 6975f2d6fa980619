import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { RepoError } from "../errors.js";

/** nonce ‖ AES-256-GCM ciphertext ‖ tag (docs/repository-format.md §3). */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const ENVELOPE_OVERHEAD = NONCE_BYTES + TAG_BYTES;

/** Encrypts and authenticates `parts` (concatenated) bound to `aad`; returns the envelope pieces without copying them together. */
export function sealParts(key: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array): Buffer[] {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const out: Buffer[] = [nonce];
  for (const p of parts) out.push(cipher.update(p));
  const final = cipher.final();
  if (final.length) out.push(final);
  out.push(cipher.getAuthTag());
  return out;
}

export function seal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  return Buffer.concat(sealParts(key, [plaintext], aad));
}

/** Decrypts an envelope; any change to it, its key or its AAD is reported as corruption (`what` names it). */
export function open(key: Uint8Array, envelope: Uint8Array, aad: Uint8Array, what: string): Buffer {
  if (envelope.length < ENVELOPE_OVERHEAD) {
    throw new RepoError("data_corrupt", `${what} is truncated (${envelope.length} bytes)`);
  }
  const nonce = envelope.subarray(0, NONCE_BYTES);
  const tag = envelope.subarray(envelope.length - TAG_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, nonce);
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const body = decipher.update(envelope.subarray(NONCE_BYTES, envelope.length - TAG_BYTES));
  try {
    const final = decipher.final();
    return final.length ? Buffer.concat([body, final]) : body;
  } catch (err) {
    throw new RepoError("data_corrupt", `${what} failed authentication: it was modified or damaged`, {
      cause: err,
    });
  }
}
