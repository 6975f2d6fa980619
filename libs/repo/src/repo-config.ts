import { randomBytes } from "node:crypto";
import type { Backend } from "./backend/backend.js";
import type { ChunkerParams } from "./chunker/fastcdc.js";
import type { CodecName } from "./compression/codec.js";
import { open, seal } from "./crypto/envelope.js";
import { RepoError } from "./errors.js";

export const FORMAT = "pwdr-repository";
export const FORMAT_VERSION = 2;
/** The first format with delta-coded blobs (§5.1); format 1 repositories are read and written without them. */
export const DELTA_FORMAT_VERSION = 2;

/** The encrypted part of `config` (§4). */
export interface RepoParams {
  chunker: ChunkerParams;
  packSize: number;
  compression: CodecName;
}

export interface ConfigFile {
  format: string;
  version: number;
  id: string;
  createdAt: string;
  params: string;
}

const AAD = Buffer.from("config");

/** Sizes chosen by measurement (BENCHMARKS.md, "chunk size"). */
export function defaultParams(): RepoParams {
  return {
    chunker: {
      minSize: 256 * 1024,
      avgSize: 1024 * 1024,
      maxSize: 4 * 1024 * 1024,
      gearSeed: randomBytes(32).toString("hex"),
    },
    packSize: 16 * 1024 * 1024,
    compression: "zstd",
  };
}

export function sealConfig(encKey: Uint8Array, params: RepoParams, now: Date): ConfigFile {
  return {
    format: FORMAT,
    version: FORMAT_VERSION,
    id: randomBytes(32).toString("hex"),
    createdAt: now.toISOString(),
    params: seal(encKey, Buffer.from(JSON.stringify(params)), AAD).toString("base64"),
  };
}

/** Reads `config` and refuses formats this build does not know, before any password is tried. */
export async function readConfig(backend: Backend): Promise<ConfigFile> {
  const info = await backend.stat({ type: "config", name: "config" });
  if (!info) {
    throw new RepoError("repo_not_found", `no repository at ${backend.location}; create one with \`init\``);
  }
  let config: ConfigFile;
  try {
    config = JSON.parse(
      (await backend.load({ type: "config", name: "config" })).toString("utf8"),
    ) as ConfigFile;
  } catch (err) {
    throw new RepoError("data_corrupt", `the repository config at ${backend.location} is not valid JSON`, {
      cause: err,
    });
  }
  if (config.format !== FORMAT) {
    throw new RepoError(
      "repo_not_found",
      `${backend.location} holds something that is not a PWDR repository`,
    );
  }
  if (config.version > FORMAT_VERSION) {
    throw new RepoError(
      "repo_format_newer",
      `repository format ${config.version} is newer than this program supports (${FORMAT_VERSION}); upgrade PWDR`,
    );
  }
  return config;
}

export function openParams(encKey: Uint8Array, config: ConfigFile): RepoParams {
  return JSON.parse(
    open(encKey, Buffer.from(config.params, "base64"), AAD, "repository config").toString("utf8"),
  );
}
