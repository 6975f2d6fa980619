// Worker thread of the blob encoder (src/pack/blob-encoder.ts). Plain
// JavaScript so that it runs unchanged from src/ (tests) and dist/ (the CLI).
// It mirrors compressBlob (src/compression/codec.ts) and sealParts
// (src/crypto/envelope.ts); blob-encoder.test.ts proves the outputs decode
// with those modules.
//
// Protocol: { op: "id", seq, data } -> { seq, id }        (HMAC-SHA-256)
//           { op: "seal", seq }     -> { seq, envelope }  (zstd + AES-256-GCM)
//           { op: "drop", seq }     -> nothing            (duplicate blob)
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { Compressor } from "zstd-napi";

const { encKey, idKey, codec, level } = workerData;
const compressor = new Compressor();
compressor.setParameters({ compressionLevel: level });
const pending = new Map();

function frame(data) {
  if (codec === "zstd" && data.length >= 64) {
    const packed = compressor.compress(data);
    if (packed.length <= data.length - (data.length >> 4)) return [Buffer.of(1), packed];
  }
  return [Buffer.of(0), data];
}

// Writes the envelope straight into a fresh ArrayBuffer that is then
// transferred, so each blob costs no copy beyond what zstd and the cipher make.
function seal(id, data) {
  const framed = frame(data);
  const length = 12 + framed[0].length + framed[1].length + 16;
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
  } else if (msg.op === "drop") {
    pending.delete(msg.seq);
  }
});
