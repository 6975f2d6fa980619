import { ByteReader } from "./byte-reader.js";
import { invalidArgument } from "./failure.js";

/*
 * The logical dump format (/redis/logical.bin). All integers big-endian.
 *
 *   file   = MAGIC frame*            MAGIC = "PWDRRL" 0x00 0x01 (8 bytes; last byte = version 1)
 *   frame  = 0x01 db:u32                                   SELECT: following keys belong to database db
 *          | 0x02 keyLen:u32 key expireAt:i64 payloadLen:u32 payload
 *                                                          KEY: expireAt = absolute expiry in Unix ms,
 *                                                          0 = no TTL; payload = the DUMP reply (includes
 *                                                          its RDB version and checksum)
 *          | 0xFF keys:u64                                 END: total KEY frames; a missing END means truncated
 *
 * An absolute expiry (rather than the PTTL at dump time) keeps a key's real
 * deadline across the time between backup and restore: RESTORE … ABSTTL.
 */
export const LOGICAL_MAGIC = Buffer.from([0x50, 0x57, 0x44, 0x52, 0x52, 0x4c, 0x00, 0x01]);
const SELECT = 0x01;
const KEY = 0x02;
const END = 0xff;

export type LogicalFrame =
  | { kind: "select"; db: number }
  | { kind: "key"; key: Buffer; expireAt: number; payload: Buffer }
  | { kind: "end"; keys: number };

export function selectFrame(db: number): Buffer {
  const frame = Buffer.alloc(5);
  frame.writeUInt8(SELECT, 0);
  frame.writeUInt32BE(db, 1);
  return frame;
}

export function keyFrame(key: Buffer, expireAt: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(KEY, 0);
  head.writeUInt32BE(key.length, 1);
  const middle = Buffer.alloc(12);
  middle.writeBigInt64BE(BigInt(expireAt), 0);
  middle.writeUInt32BE(payload.length, 8);
  return Buffer.concat([head, key, middle, payload]);
}

export function endFrame(keys: number): Buffer {
  const frame = Buffer.alloc(9);
  frame.writeUInt8(END, 0);
  frame.writeBigUInt64BE(BigInt(keys), 1);
  return frame;
}

/** Frames of a logical dump, in order; a bad magic, unknown frame or truncation is an error. */
export async function* readLogicalFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<LogicalFrame> {
  const reader = new ByteReader(source);
  try {
    const magic = await reader.read(LOGICAL_MAGIC.length);
    if (!magic?.equals(LOGICAL_MAGIC))
      throw new Error("it does not start with the PWDR logical Redis header");
    for (;;) {
      const frame = await readFrame(reader);
      yield frame;
      if (frame.kind === "end") return;
    }
  } catch (err) {
    throw invalidArgument(`unreadable logical Redis dump: ${(err as Error).message}`);
  }
}

async function readFrame(reader: ByteReader): Promise<LogicalFrame> {
  const tag = await reader.read(1);
  if (!tag) throw new Error("it ends without its END frame (truncated)");
  switch (tag[0]) {
    case SELECT:
      return { kind: "select", db: (await need(reader, 4)).readUInt32BE(0) };
    case KEY: {
      const key = await need(reader, (await need(reader, 4)).readUInt32BE(0));
      const middle = await need(reader, 12);
      const payload = await need(reader, middle.readUInt32BE(8));
      return { kind: "key", key, expireAt: Number(middle.readBigInt64BE(0)), payload };
    }
    case END:
      return { kind: "end", keys: Number((await need(reader, 8)).readBigUInt64BE(0)) };
    default:
      throw new Error(`unknown frame type 0x${(tag[0] ?? 0).toString(16)}`);
  }
}

async function need(reader: ByteReader, n: number): Promise<Buffer> {
  const bytes = await reader.read(n);
  if (bytes === undefined && n > 0) throw new Error("it ends in the middle of a frame (truncated)");
  return bytes ?? Buffer.alloc(0);
}
