import zlib from "node:zlib";
import { Compressor, Decompressor } from "zstd-napi";
import { RepoError } from "../errors.js";

/**
 * Per-blob compression (§5). The first plaintext byte names the codec. zstd
 * won the measurement in BENCHMARKS.md (ratio and speed against deflate and
 * brotli on PiWardrive data); deflate stays readable for old blobs.
 * `zstdDelta` is zstd with another blob's plaintext as its dictionary (§5.1).
 */
export const Codec = { none: 0, zstd: 1, deflate: 2, zstdDelta: 3 } as const;
export type CodecName = "none" | "zstd" | "deflate";

/** What a delta-coded blob was compressed against: its base blobs' plaintexts, concatenated in order. */
export interface DeltaDictionary {
  bases: readonly string[];
  plain: Buffer;
}

/** At most this many bases per delta: a chunk whose boundaries moved spans a few of its parent's chunks. */
export const MAX_DELTA_BASES = 4;

// Level 2: a quarter less CPU than level 3 on PiWardrive data for 0.4 %
// more stored bytes (BENCHMARKS.md, "Repository engine").
export const ZSTD_LEVEL = 2;
/**
 * Delta coding (§5.1), done on the blob workers. zstd indexes only the last
 * 2^(hashLog + 3) bytes of a dictionary at levels 1–4, so the default
 * hashLog saw only 1 MiB of a larger one (a 2 MiB chunk against 6 MiB of
 * bases: 920 KiB with it, 2.5 KiB with hashLog 20): the workers size hashLog
 * to the dictionary, and the window to dictionary and chunk, from these
 * minimums up. Levels 1–2 find too few long matches. The delta is kept
 * when it is at most 1/8 of the plaintext, or else under half of the blob
 * compressed alone.
 */
export const DELTA_PARAMS = { level: 3, minHashLog: 17, minWindowLog: 20 } as const;

/** The dictionary's limit, which hashLog 20 indexes in full. */
export const MAX_DELTA_DICTIONARY = 8 * 1024 * 1024;

// A blob that does not shrink by at least 1/16 is stored as is: already
// compressed scan captures and gzip logs would only cost CPU on restore.
const MIN_SAVING_SHIFT = 4;

let zstdCompressor: Compressor | undefined;
let zstdDecompressor: Decompressor | undefined;
let deltaDecompressor: Decompressor | undefined;

function zstd(): Compressor {
  if (!zstdCompressor) {
    zstdCompressor = new Compressor();
    zstdCompressor.setParameters({ compressionLevel: ZSTD_LEVEL });
  }
  return zstdCompressor;
}

function codecByte(codec: number): Buffer {
  return Buffer.of(codec);
}

/** Frames `data` for encryption: [codec byte, payload] as pieces, without copying `data` when stored raw. */
export function compressBlob(data: Uint8Array, codec: CodecName): Buffer[] {
  if (codec !== "none" && data.length >= 64) {
    const packed = codec === "zstd" ? zstd().compress(data) : zlib.deflateRawSync(data, { level: 1 });
    if (packed.length <= data.length - (data.length >> MIN_SAVING_SHIFT))
      return [codecByte(Codec[codec]), packed];
  }
  return [codecByte(Codec.none), Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
}

const BASE_ID_BYTES = 32;

/**
 * The base ids a delta-coded framed blob names (payload: a count byte, the
 * ids, the zstd frame), or undefined for any other codec.
 */
export function deltaBasesOf(framed: Buffer): string[] | undefined {
  if (framed[0] !== Codec.zstdDelta) return undefined;
  const count = framed[1] ?? 0;
  if (count === 0 || count > MAX_DELTA_BASES || framed.length < 2 + count * BASE_ID_BYTES) return undefined;
  return Array.from({ length: count }, (_, i) =>
    framed.subarray(2 + i * BASE_ID_BYTES, 2 + (i + 1) * BASE_ID_BYTES).toString("hex"),
  );
}

function decodeDelta(framed: Buffer, dictionary: DeltaDictionary | undefined, what: string): Buffer {
  const named = deltaBasesOf(framed);
  if (!named) throw new RepoError("data_corrupt", `${what} has a malformed delta header`);
  const list = (ids: readonly string[]) => ids.map((id) => id.slice(0, 12)).join(", ");
  if (!dictionary) {
    throw new RepoError(
      "data_corrupt",
      `${what} is delta-coded against blobs ${list(named)}, whose plaintext was not supplied`,
    );
  }
  if (named.join() !== dictionary.bases.join()) {
    throw new RepoError(
      "data_corrupt",
      `${what} is delta-coded against blobs ${list(named)}, not ${list(dictionary.bases)} as the index says`,
    );
  }
  // One context, as for plain zstd: each one holds native memory until a collection.
  deltaDecompressor ??= new Decompressor();
  deltaDecompressor.loadDictionary(dictionary.plain);
  return deltaDecompressor.decompress(framed.subarray(2 + named.length * BASE_ID_BYTES));
}

/**
 * Reverses compressBlob (and the workers' delta coding, given the bases'
 * plaintext); `rawLength` guards against a decompression bomb in a damaged blob.
 */
export function decompressBlob(
  framed: Buffer,
  rawLength: number,
  what: string,
  dictionary?: DeltaDictionary,
): Buffer {
  const codec = framed[0];
  const payload = framed.subarray(1);
  let out: Buffer;
  try {
    if (codec === Codec.none) out = payload;
    else if (codec === Codec.zstd) {
      zstdDecompressor ??= new Decompressor();
      out = zstdDecompressor.decompress(payload);
    } else if (codec === Codec.deflate)
      out = zlib.inflateRawSync(payload, { maxOutputLength: Math.max(rawLength, 1) });
    else if (codec === Codec.zstdDelta) out = decodeDelta(framed, dictionary, what);
    else throw new Error(`unknown codec ${codec}`);
  } catch (err) {
    if (err instanceof RepoError) throw err;
    throw new RepoError("data_corrupt", `${what} cannot be decompressed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (out.length !== rawLength) {
    throw new RepoError("data_corrupt", `${what} decompressed to ${out.length} bytes, expected ${rawLength}`);
  }
  return out;
}
