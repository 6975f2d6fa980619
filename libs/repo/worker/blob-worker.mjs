// Worker thread of the blob workers pool (src/pack/blob-workers.ts). Plain
// JavaScript so that it runs unchanged from src/ (tests) and dist/ (the CLI).
// It mirrors compressBlob/decompressBlob (src/compression/codec.ts) and
// sealParts/open (src/crypto/envelope.ts); blob-workers.test.ts proves both
// directions agree with those modules.
//
// Protocol: { op: "id", seq, data } -> { seq, id }        (HMAC-SHA-256)
//           { op: "seal", seq }     -> { seq, envelope }  (zstd + AES-256-GCM)
//           { op: "seal-delta", seq, bases, dictionary }
//                                   -> { seq, envelope, delta } (zstd with
//             the base blobs' plaintext as dictionary when that is much
//             smaller, else as "seal"; `delta` says which)
//           { op: "drop", seq }     -> nothing            (duplicate blob)
//           { op: "seal-batch", seq, ids, data }
//                                   -> { seq, envelopes } (small blobs the
//             main thread identified itself, many per message: one round
//             trip for a batch instead of two per blob)
//           { op: "open", seq, id, envelope, rawLength }
//                                   -> { seq, data } | { seq, error }
//             (decrypt, decompress, check the HMAC id: never wrong bytes)
//           { op: "write-files", seq, ranges, files }
//                                   -> { seq, results } (restore: decode the
//             blobs of small files from pack ranges the main thread read,
//             and write the files; see write-files.mjs)
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { Compressor, Decompressor } from "zstd-napi";
import { GarbageMeter } from "./garbage-meter.mjs";
import { release } from "./release.mjs";
import { writeFiles } from "./write-files.mjs";

const { encKey, idKey, codec, level, delta } = workerData;
const compressor = new Compressor();
compressor.setParameters({ compressionLevel: level });
// One compressor for all deltas, each loading its own dictionary: a context
// per delta held its tables until a garbage collection, which V8 does not
// start for native memory (684 MiB peak RSS in a day-2 PostgreSQL backup).
// Tables sized to the dictionary (DELTA_PARAMS in src/compression/codec.ts).
let deltaContext;
function deltaCompressor(dictionary, dataLength) {
  deltaContext ??= new Compressor();
  const bits = (n) => Math.ceil(Math.log2(Math.max(n, 2)));
  deltaContext.setParameters({
    compressionLevel: delta.level,
    hashLog: Math.max(delta.minHashLog, bits(dictionary.length) - 3),
    windowLog: Math.max(delta.minWindowLog, bits(dictionary.length + dataLength)),
  });
  deltaContext.loadDictionary(dictionary);
  return deltaContext;
}
const pending = new Map();
let decompressor;
// Every blob leaves dead buffers here: its plaintext is released at once,
// zstd's and the cipher's output are collected every few MiB, as this
// thread allocates too few objects for V8 to collect them soon on its own.
const garbage = new GarbageMeter(2 * 1024 * 1024);

function frame(data) {
  if (codec === "zstd" && data.length >= 64) {
    const packed = compressor.compress(data);
    if (packed.length <= data.length - (data.length >> 4)) return [Buffer.of(1), packed];
  }
  return [Buffer.of(0), data];
}

// The rule of DELTA_PARAMS (src/compression/codec.ts): the delta when it is at
// most 1/8 of the plaintext, else when it is under half the plain frame.
function deltaFrame(data, bases, dictionary) {
  const packed = deltaCompressor(dictionary, data.length).compress(data);
  const coded = () => [Buffer.of(3, bases.length), ...bases.map((id) => Buffer.from(id, "hex")), packed];
  if (packed.length <= data.length >> 3) return coded();
  const plain = frame(data);
  return packed.length < plain[1].length >> 1 ? coded() : plain;
}

// Writes the envelope straight into a fresh ArrayBuffer that is then
// transferred, so each blob costs no copy beyond what zstd and the cipher make.
function seal(id, data, framed = frame(data)) {
  const length = 12 + framed.reduce((n, p) => n + p.length, 0) + 16;
  const out = Buffer.from(new ArrayBuffer(length));
  randomBytes(12).copy(out, 0);
  const cipher = createCipheriv("aes-256-gcm", encKey, out.subarray(0, 12));
  cipher.setAAD(Buffer.from(id, "hex"));
  let pos = 12;
  for (const p of framed) pos += cipher.update(p).copy(out, pos);
  pos += cipher.final().copy(out, pos);
  cipher.getAuthTag().copy(out, pos);
  return out.buffer;
}

// Same checks, in the same order, as open() and decompressBlob(); the error
// codes are the repository's (errors.ts).
function open(id, envelope, rawLength) {
  const what = `blob ${id.slice(0, 12)}`;
  if (envelope.length < 28)
    throw { code: "data_corrupt", message: `${what} is truncated (${envelope.length} bytes)` };
  const decipher = createDecipheriv("aes-256-gcm", encKey, envelope.subarray(0, 12));
  decipher.setAAD(Buffer.from(id, "hex"));
  decipher.setAuthTag(envelope.subarray(envelope.length - 16));
  let framed;
  try {
    // GCM is a stream mode: update() returns all the plaintext and final()
    // checks the tag, returning nothing; concatenating would copy every blob.
    framed = decipher.update(envelope.subarray(12, envelope.length - 16));
    const tail = decipher.final();
    if (tail.length) framed = Buffer.concat([framed, tail]);
  } catch {
    throw { code: "data_corrupt", message: `${what} failed authentication: it was modified or damaged` };
  }
  let data;
  try {
    if (framed[0] === 0) data = framed.subarray(1);
    else if (framed[0] === 1) {
      decompressor ??= new Decompressor();
      data = decompressor.decompress(framed.subarray(1));
    } else throw new Error(`codec ${framed[0]} is not handled off the main thread`);
  } catch (err) {
    throw { code: "data_corrupt", message: `${what} cannot be decompressed: ${err.message}` };
  }
  if (data.length !== rawLength)
    throw {
      code: "data_corrupt",
      message: `${what} decompressed to ${data.length} bytes, expected ${rawLength}`,
    };
  if (createHmac("sha256", idKey).update(data).digest("hex") !== id)
    throw { code: "data_corrupt", message: `${what} does not match its id` };
  return data;
}

parentPort.on("message", (msg) => {
  if (msg.op === "id") {
    const data = Buffer.from(msg.data);
    const id = createHmac("sha256", idKey).update(data).digest("hex");
    pending.set(msg.seq, { id, data });
    parentPort.postMessage({ seq: msg.seq, id });
  } else if (msg.op === "seal") {
    const blob = pending.get(msg.seq);
    pending.delete(msg.seq);
    const envelope = seal(blob.id, blob.data);
    parentPort.postMessage({ seq: msg.seq, envelope }, [envelope]);
    garbage.add(blob.data.length);
    release([blob.data]);
  } else if (msg.op === "seal-delta") {
    const blob = pending.get(msg.seq);
    pending.delete(msg.seq);
    const framed = deltaFrame(blob.data, msg.bases, Buffer.from(msg.dictionary));
    const envelope = seal(blob.id, blob.data, framed);
    parentPort.postMessage({ seq: msg.seq, envelope, delta: framed[0][0] === 3 }, [envelope]);
    garbage.add(blob.data.length + msg.dictionary.byteLength);
    release([blob.data, new Uint8Array(msg.dictionary)]);
  } else if (msg.op === "seal-batch") {
    const envelopes = msg.data.map((data, i) => seal(msg.ids[i], Buffer.from(data)));
    parentPort.postMessage({ seq: msg.seq, envelopes }, envelopes);
    for (const data of msg.data) garbage.add(data.byteLength);
    release(msg.data.map((data) => new Uint8Array(data)));
  } else if (msg.op === "drop") {
    const blob = pending.get(msg.seq);
    pending.delete(msg.seq);
    if (blob) release([blob.data]);
  } else if (msg.op === "write-files") {
    const results = writeFiles(msg, open);
    parentPort.postMessage({ seq: msg.seq, results });
    release(msg.ranges.map((r) => new Uint8Array(r)));
  } else if (msg.op === "open") {
    try {
      const data = open(msg.id, Buffer.from(msg.envelope), msg.rawLength);
      const out =
        data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
          ? data.buffer
          : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
      parentPort.postMessage({ seq: msg.seq, data: out }, [out]);
      release([new Uint8Array(msg.envelope)]);
    } catch (error) {
      parentPort.postMessage({
        seq: msg.seq,
        error: { code: error.code ?? "data_corrupt", message: error.message ?? String(error) },
      });
    }
  }
});
