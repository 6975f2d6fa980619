import zlib from "node:zlib";
import { Compressor, Decompressor } from "zstd-napi";
import { RepoError } from "../errors.js";

/**
 * Per-blob compression (§5). The first plaintext byte names the codec. zstd
 * won the measurement in BENCHMARKS.md (ratio and speed against deflate and
 * brotli on PiWardrive data); deflate stays readable for old blobs.
 */
export const Codec = { none: 0, zstd: 1, deflate: 2 } as const;
export type CodecName = keyof typeof Codec;

// Level 2: a quarter less CPU than level 3 on PiWardrive data for 0.4 %
// more stored bytes (BENCHMARKS.md, "Repository engine").
export const ZSTD_LEVEL = 2;
// A blob that does not shrink by at least 1/16 is stored as is: already
// compressed scan captures and gzip logs would only cost CPU on restore.
const MIN_SAVING_SHIFT = 4;

let zstdCompressor: Compressor | undefined;
let zstdDecompressor: Decompressor | undefined;

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

/** Reverses compressBlob; `rawLength` guards against a decompression bomb in a damaged blob. */
export function decompressBlob(framed: Buffer, rawLength: number, what: string): Buffer {
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
    else throw new Error(`unknown codec ${codec}`);
  } catch (err) {
    throw new RepoError("data_corrupt", `${what} cannot be decompressed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (out.length !== rawLength) {
    throw new RepoError("data_corrupt", `${what} decompressed to ${out.length} bytes, expected ${rawLength}`);
  }
  return out;
}
