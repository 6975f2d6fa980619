import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Backend, FileInfo, FileType } from "../backend.js";

const name = () => randomBytes(32).toString("hex");

async function collect(it: AsyncIterable<FileInfo>): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of it) out.push(f);
  return out;
}

/**
 * The contract in backend.ts as tests; every backend implementation runs it
 * (restic's backend/test, kopia's blobtesting.VerifyStorage).
 */
export function runBackendSuite(label: string, makeBackend: () => Promise<Backend>): void {
  describe(`${label} keeps the backend contract`, () => {
    it("reads back exactly what was saved, whole and by range, from parts", async () => {
      const b = await makeBackend();
      const h = { type: "data" as FileType, name: name() };
      const parts = [randomBytes(1000), randomBytes(1), randomBytes(70_000)];
      await b.save(h, parts);
      const all = Buffer.concat(parts);
      expect((await b.load(h)).equals(all)).toBe(true);
      expect((await b.load(h, { offset: 999, length: 2 })).equals(all.subarray(999, 1001))).toBe(true);
      expect(await b.stat(h)).toEqual({ name: h.name, size: all.length });
    });

    it("lists each file of a type once and nothing of other types", async () => {
      const b = await makeBackend();
      const names = [name(), name(), name()];
      for (const n of names) await b.save({ type: "index", name: n }, Buffer.from(n));
      await b.save({ type: "snapshots", name: name() }, Buffer.from("x"));
      const listed = (await collect(b.list("index"))).map((f) => f.name).sort();
      expect(listed).toEqual([...names].sort());
    });

    it("saving the same content twice is not an error; removing a missing file is not an error", async () => {
      const b = await makeBackend();
      const h = { type: "snapshots" as FileType, name: name() };
      await b.save(h, Buffer.from("same"));
      await b.save(h, Buffer.from("same"));
      await b.remove(h);
      await b.remove(h);
      expect(await b.stat(h)).toBeUndefined();
    });

    it("refuses names that are not 64 hex characters", async () => {
      const b = await makeBackend();
      await expect(
        b.save({ type: "data", name: "../../etc/passwd" }, Buffer.from("x")),
      ).rejects.toMatchObject({
        code: "invalid_argument",
      });
    });

    it("shows a staged file only once committed, whole; a discarded one never", async (ctx) => {
      const b = await makeBackend();
      if (!b.stage) return ctx.skip();
      const parts = [randomBytes(5000), randomBytes(1), randomBytes(70_000)];
      const staged = await b.stage("data");
      for (const p of parts) await staged.append([p]);
      const h = { type: "data" as FileType, name: name() };
      expect(await collect(b.list("data"))).toEqual([]);
      await staged.commit(h.name);
      expect((await b.load(h)).equals(Buffer.concat(parts))).toBe(true);
      const dropped = await b.stage("data");
      await dropped.append([randomBytes(100)]);
      await dropped.discard();
      expect((await collect(b.list("data"))).map((f) => f.name)).toEqual([h.name]);
    });

    it("reports a missing file as blob_missing and a short range as data_corrupt", async () => {
      const b = await makeBackend();
      await expect(b.load({ type: "data", name: name() })).rejects.toMatchObject({ code: "blob_missing" });
      const h = { type: "data" as FileType, name: name() };
      await b.save(h, Buffer.alloc(10));
      await expect(b.load(h, { offset: 5, length: 10 })).rejects.toMatchObject({ code: "data_corrupt" });
    });
  });
}
