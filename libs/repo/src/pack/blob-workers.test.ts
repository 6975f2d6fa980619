import { describe, expect, it } from "vitest";
import { decompressBlob } from "../compression/codec.js";
import { open } from "../crypto/envelope.js";
import { blobId, generateMasterKey } from "../crypto/master-key.js";
import { seededBytes } from "../test-support/fixtures.js";
import { BlobWorkers } from "./blob-workers.js";

describe("blob worker threads", () => {
  it("produces the same ids and envelopes the main-thread code reads", async () => {
    const key = generateMasterKey();
    const encoder = new BlobWorkers(key, "zstd", 2);
    try {
      const inputs = [
        Buffer.from("scan,row\n".repeat(5000)),
        seededBytes("random", 200_000),
        Buffer.alloc(10),
        Buffer.alloc(0),
      ];
      for (const data of inputs) {
        const { id, ticket } = await encoder.identify(data);
        expect(id).toBe(blobId(key.idKey, data).toString("hex"));
        const envelope = await encoder.seal(ticket);
        const framed = open(key.encKey, envelope, Buffer.from(id, "hex"), "blob");
        expect(decompressBlob(framed, data.length, "blob").equals(data)).toBe(true);
      }
      const compressible = await encoder.identify(inputs[0] as Buffer);
      expect((await encoder.seal(compressible.ticket)).length).toBeLessThan(5000);
    } finally {
      await encoder.close();
    }
  });

  it("leaves the caller's buffer intact and forgets dropped blobs", async () => {
    const encoder = new BlobWorkers(generateMasterKey(), "zstd", 1);
    try {
      const data = seededBytes("keep", 1000);
      const copy = Buffer.from(data);
      const { ticket } = await encoder.identify(data);
      encoder.drop(ticket);
      expect(data.equals(copy)).toBe(true);
      const again = await encoder.identify(data);
      expect((await encoder.seal(again.ticket)).length).toBeGreaterThan(1000);
    } finally {
      await encoder.close();
    }
  });
});
