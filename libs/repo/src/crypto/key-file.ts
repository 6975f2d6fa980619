import { randomBytes, scrypt as scryptCb } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { promisify } from "node:util";
import { RepoError } from "../errors.js";
import { open, seal } from "./envelope.js";
import { MASTER_KEY_BYTES, type MasterKey, masterKeyBytes, masterKeyFromBytes } from "./master-key.js";

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Uint8Array,
  length: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const AAD = Buffer.from("key");

/** A key file: the master key wrapped by a key derived from one password (§4). */
export interface KeyFile {
  kdf: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  masterKey: string;
  createdAt: string;
  host: string;
  user: string;
}

export interface KdfParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_KDF: KdfParams = { N: 2 ** 15, r: 8, p: 1 };

function deriveKek(password: string, salt: Uint8Array, params: KdfParams): Promise<Buffer> {
  return scrypt(password, salt, 32, { ...params, maxmem: 256 * params.N * params.r + 1024 * 1024 });
}

export async function wrapMasterKey(
  master: MasterKey,
  password: string,
  params: KdfParams = DEFAULT_KDF,
  now = new Date(),
): Promise<KeyFile> {
  const salt = randomBytes(32);
  const kek = await deriveKek(password, salt, params);
  let user = "";
  try {
    user = userInfo().username;
  } catch {
    user = String(process.getuid?.() ?? "");
  }
  return {
    kdf: "scrypt",
    ...params,
    salt: salt.toString("base64"),
    masterKey: seal(kek, masterKeyBytes(master), AAD).toString("base64"),
    createdAt: now.toISOString(),
    host: hostname(),
    user,
  };
}

/** Unwraps the master key, or returns undefined when the password does not fit this key file. */
export async function unwrapMasterKey(file: KeyFile, password: string): Promise<MasterKey | undefined> {
  if (file.kdf !== "scrypt") return undefined;
  const kek = await deriveKek(password, Buffer.from(file.salt, "base64"), file);
  try {
    const bytes = open(kek, Buffer.from(file.masterKey, "base64"), AAD, "key file");
    return bytes.length === MASTER_KEY_BYTES ? masterKeyFromBytes(bytes) : undefined;
  } catch (err) {
    if (err instanceof RepoError && err.code === "data_corrupt") return undefined;
    throw err;
  }
}
