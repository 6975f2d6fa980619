import { createPrivateKey, createPublicKey, type KeyObject, webcrypto } from "node:crypto";

import { InvalidOptionsError, InvalidPemError } from "./errors.js";
import { encodePem, errorMessage } from "./pem.js";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
export const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;

export function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

/** PKCS#8, the format Node, OpenSSL 3 and Go all read without a type hint. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return encodePem(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Accepts PKCS#8 and SEC1 ("EC PRIVATE KEY", as `openssl ecparam -genkey` writes) P-256 keys. */
export async function importSigningKey(pem: string, what: string): Promise<CryptoKey> {
  const key = readPrivateKey(pem, what);
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType !== "ec" || details?.namedCurve !== "prime256v1") {
    throw new InvalidOptionsError(
      `${what} must be an ECDSA P-256 key, got ${key.asymmetricKeyType ?? "unknown"} ${details?.namedCurve ?? ""}`.trim(),
    );
  }
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", pkcs8, KEY_ALGORITHM, false, ["sign"]);
}

/** SubjectPublicKeyInfo (DER) belonging to a private key, to match it against a certificate. */
export function publicKeyDerOf(privateKeyPem: string, what: string): Buffer {
  return createPublicKey(readPrivateKey(privateKeyPem, what)).export({ type: "spki", format: "der" });
}

function readPrivateKey(pem: string, what: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new InvalidPemError(what, errorMessage(error), error);
  }
}
