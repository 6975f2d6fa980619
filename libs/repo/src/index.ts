// The PWDR repository: content-defined chunks, deduplicated, compressed and
// encrypted into packs, with indexes and snapshots (docs/repository-format.md).
// Glossary: blob = one chunk or tree; pack = file of blobs; index = blob → pack map.
export type {
  Backend,
  BackendReader,
  BackendWriter,
  FileHandle,
  FileInfo,
  FileType,
} from "./backend/backend.js";
export { LocalBackend } from "./backend/local-backend.js";
export { type ChunkerParams, FastCdc } from "./chunker/fastcdc.js";
export { type CodecName, compressBlob, decompressBlob } from "./compression/codec.js";
export type { KdfParams } from "./crypto/key-file.js";
export { isRepoError, REPO_ERRORS, RepoError, type RepoErrorCode } from "./errors.js";
export type { BlobLocation } from "./index/master-index.js";
export type { BlobType, PackEntry } from "./pack/pack-format.js";
export { readPackHeader } from "./pack/pack-reader.js";
export { FORMAT_VERSION, type RepoParams } from "./repo-config.js";
export { addKey, type KeyInfo, listKeys, removeKey } from "./repo-keys.js";
export { type InitOptions, Repository } from "./repository.js";
export { type SavedBlob, WriteSession } from "./write-session.js";
