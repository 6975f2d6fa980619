import { describe, expect, it } from "vitest";
import { decompressBlob, deltaBasesOf } from "../compression/codec.js";
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

  it("delta-codes against a dictionary only when that pays, in a form the main-thread code decodes", async () => {
    const key = generateMasterKey();
    const workers = new BlobWorkers(key, "zstd", 1);
    const rows = (tag: (i: number) => string) =>
      Buffer.from(
        Array.from(
          { length: 20_000 },
          (_, i) => `${i},${seededBytes(`r${i}`, 6).toString("hex")},${tag(i)}\n`,
        ).join(""),
      );
    const base1 = rows(() => "a");
    const base2 = rows(() => "b");
    const edited = rows((i) => (i % 200 === 7 ? "changed" : "a"));
    const bases = [blobId(key.idKey, base1).toString("hex"), blobId(key.idKey, base2).toString("hex")];
    const dictionary = { bases, plain: Buffer.concat([base1, base2]) };
    try {
      const { id, ticket } = await workers.identify(edited);
      const coded = await workers.sealDelta(ticket, { bases, plain: Buffer.from(dictionary.plain) });
      expect(coded.delta).toBe(true);
      expect(coded.envelope.length).toBeLessThan(edited.length / 20);
      const framed = open(key.encKey, coded.envelope, Buffer.from(id, "hex"), "blob");
      expect(deltaBasesOf(framed)).toEqual(bases);
      expect(decompressBlob(framed, edited.length, "blob", dictionary).equals(edited)).toBe(true);
      expect(() => decompressBlob(framed, edited.length, "blob")).toThrow(
        /delta-coded against blobs .* not supplied/,
      );
      const swapped = { bases: [...bases].reverse(), plain: dictionary.plain };
      expect(() => decompressBlob(framed, edited.length, "blob", swapped)).toThrow(
        /not .* as the index says/,
      );

      const unrelated = seededBytes("unrelated", 300_000);
      const other = await workers.identify(unrelated);
      const plain = await workers.sealDelta(other.ticket, { bases, plain: Buffer.from(dictionary.plain) });
      expect(plain.delta).toBe(false);
      const plainFramed = open(key.encKey, plain.envelope, Buffer.from(other.id, "hex"), "blob");
      expect(deltaBasesOf(plainFramed)).toBeUndefined();
      expect(decompressBlob(plainFramed, unrelated.length, "blob").equals(unrelated)).toBe(true);
    } finally {
      await workers.close();
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

  it("opens stored blobs on a worker and never returns damaged bytes", async () => {
    const key = generateMasterKey();
    const workers = new BlobWorkers(key, "zstd", 1);
    try {
      const data = Buffer.from("ssid,rssi\n".repeat(3000));
      const { id, ticket } = await workers.identify(data);
      const envelope = await workers.seal(ticket);
      expect((await workers.open(id, Buffer.from(envelope), data.length)).equals(data)).toBe(true);
      const flipped = Buffer.from(envelope);
      flipped[20] = (flipped[20] as number) ^ 1;
      await expect(workers.open(id, flipped, data.length)).rejects.toMatchObject({ code: "data_corrupt" });
      const otherId = blobId(key.idKey, Buffer.from("other")).toString("hex");
      await expect(workers.open(otherId, Buffer.from(envelope), data.length)).rejects.toMatchObject({
        code: "data_corrupt",
      });
      await expect(workers.open(id, Buffer.from(envelope), data.length + 1)).rejects.toMatchObject({
        code: "data_corrupt",
      });
    } finally {
      await workers.close();
    }
  });

  it("seals small blobs in batches, each envelope going back to its own caller", async () => {
    const key = generateMasterKey();
    const workers = new BlobWorkers(key, "zstd", 2);
    try {
      // More blobs than one batch holds, some owning their buffer (moved to
      // a worker), some views into a shared one (copied), one over the byte
      // limit on its own, and a second round after the first went out.
      const shared = seededBytes("shared", 40 * 1000);
      const blobs = [
        ...Array.from({ length: 70 }, (_, i) =>
          i % 3 === 0
            ? shared.subarray(i * 500, i * 500 + 400)
            : Buffer.from(seededBytes(`blob-${i}`, 100 + i)),
        ),
        Buffer.from(seededBytes("large", 2 * 1024 * 1024)),
      ];
      const expected = blobs.map((b) => Buffer.from(b));
      const seal = (data: Buffer) => {
        const id = blobId(key.idKey, data).toString("hex");
        return workers.sealData(id, data).then((envelope) => ({ id, envelope }));
      };
      const first = await Promise.all(blobs.map(seal));
      const second = await Promise.all([seal(Buffer.from("late")), seal(Buffer.from("later"))]);
      for (const [i, { id, envelope }] of first.entries()) {
        const framed = open(key.encKey, envelope, Buffer.from(id, "hex"), "blob");
        const want = expected[i] as Buffer;
        expect(decompressBlob(framed, want.length, "blob").equals(want)).toBe(true);
      }
      expect(shared.equals(seededBytes("shared", 40 * 1000))).toBe(true);
      for (const [i, { id, envelope }] of second.entries()) {
        const framed = open(key.encKey, envelope, Buffer.from(id, "hex"), "blob");
        expect(decompressBlob(framed, 4 + i, "blob").toString()).toBe(["late", "later"][i]);
      }
    } finally {
      await workers.close();
    }
  });
});
