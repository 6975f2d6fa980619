import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { backUp, buildFixtureTree, INVALID_UTF8_NAME, sha256File } from "../test-support/disk-tree.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import { findNode, splitPath } from "../tree/tree-io.js";
import { dumpFile } from "./dump.js";

/** A sink that takes a while per chunk, so back-pressure matters, and hashes what it got. */
function slowSink(): Writable & { digest(): string; bytes: number } {
  const h = createHash("sha256");
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _enc, done) {
      h.update(chunk);
      sink.bytes += chunk.length;
      setImmediate(done);
    },
  }) as Writable & { digest(): string; bytes: number };
  sink.bytes = 0;
  sink.digest = () => h.digest("hex");
  return sink;
}

describe("dumpFile", () => {
  it("streams a file's exact bytes, sparse and oddly named ones too", async () => {
    const { repo } = await tempRepository();
    const src = join(makeTempDir("dump"), "src");
    await buildFixtureTree(src);
    const snapshot = await backUp(repo, src);
    for (const name of ["large.bin", "sparse.bin", "empty-file", "sub/hard-b"]) {
      const sink = slowSink();
      const { bytes } = await dumpFile(repo, snapshot, `${src}/${name}`, sink);
      expect(sink.bytes).toBe(bytes);
      expect(sink.digest()).toBe(await sha256File(join(src, name)));
    }
    const odd = new PassThrough();
    const chunks: Buffer[] = [];
    odd.on("data", (c: Buffer) => chunks.push(c));
    await dumpFile(repo, snapshot, Buffer.concat([Buffer.from(`${src}/`), INVALID_UTF8_NAME]), odd);
    expect(Buffer.concat(chunks).toString()).toBe("odd name\n");
    expect(odd.writableEnded).toBe(false);
  });

  it("says what is wrong with a directory, a symlink or a missing path", async () => {
    const { repo } = await tempRepository();
    const src = join(makeTempDir("dump-errors"), "src");
    await buildFixtureTree(src);
    const snapshot = await backUp(repo, src);
    const sink = slowSink();
    await expect(dumpFile(repo, snapshot, `${src}/sub`, sink)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining(`${src}/sub is a directory`),
    });
    await expect(dumpFile(repo, snapshot, "/", sink)).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(dumpFile(repo, snapshot, `${src}/link-rel`, sink)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("symbolic link to file.txt"),
    });
    await expect(dumpFile(repo, snapshot, `${src}/no-such-file`, sink)).rejects.toMatchObject({
      code: "path_not_found",
      exitCode: 22,
      message: expect.stringContaining(`${src}/no-such-file`),
    });
    expect(sink.bytes).toBe(0);
  });

  it("fails with data_corrupt on a damaged blob instead of writing wrong bytes", async () => {
    const { repo, root } = await tempRepository({
      chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024, gearSeed: "cd".repeat(32) },
    });
    const src = join(makeTempDir("dump-damaged"), "src");
    await mkdir(src);
    const data = seededBytes("dump-damaged", 1024 * 1024);
    await writeFile(join(src, "f"), data);
    const snapshot = await backUp(repo, src);
    const node = await findNode(repo, snapshot.tree, splitPath(`${src}/f`));
    const last = node?.content?.at(-1) as string;
    const loc = repo.index.lookup(last)[0];
    if (!loc) throw new Error("not indexed");
    const pack = join(root, "data", loc.pack.slice(0, 2), loc.pack);
    const bytes = await readFile(pack);
    const at = loc.offset + 20;
    bytes[at] = (bytes[at] as number) ^ 1;
    await writeFile(pack, bytes);
    const sink = slowSink();
    await expect(dumpFile(repo, snapshot, `${src}/f`, sink)).rejects.toMatchObject({ code: "data_corrupt" });
    // What was written is a true prefix of the file, never damaged bytes.
    expect(sink.bytes).toBeLessThan(data.length);
    expect(sink.digest()).toBe(createHash("sha256").update(data.subarray(0, sink.bytes)).digest("hex"));
  });

  it("stops when the output fails", async () => {
    const { repo } = await tempRepository();
    const src = join(makeTempDir("dump-epipe"), "src");
    await buildFixtureTree(src);
    const snapshot = await backUp(repo, src);
    const broken = new Writable({
      highWaterMark: 16,
      write(_chunk, _enc, done) {
        done(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    await expect(dumpFile(repo, snapshot, `${src}/large.bin`, broken)).rejects.toMatchObject({
      code: "EPIPE",
    });
  });
});
