import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { backUp, buildFixtureTree, INVALID_UTF8_NAME } from "../test-support/disk-tree.js";
import { tempRepository } from "../test-support/fixtures.js";
import { joinPath } from "../tree/tree-io.js";
import { type ListEntry, listFiles } from "./list-files.js";

async function collect(it: AsyncIterable<ListEntry>): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** Every path below `dir` as raw bytes, parents before children, names in byte order. */
async function diskPaths(dir: Buffer): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const name of (await readdir(dir, { encoding: "buffer" })).sort(Buffer.compare)) {
    const path = joinPath(dir, name);
    out.push(path);
    if ((await lstat(path)).isDirectory()) out.push(...(await diskPaths(path)));
  }
  return out;
}

describe("listFiles", () => {
  it("lists a snapshot directory, recursively or not, with raw path bytes and metadata", async () => {
    const { repo } = await tempRepository();
    const src = join(makeTempDir("ls"), "src");
    await buildFixtureTree(src);
    const snapshot = await backUp(repo, src);

    const all = await collect(listFiles(repo, snapshot, { path: src, recursive: true }));
    expect(all.map((e) => e.pathBytes.toString("hex"))).toEqual(
      (await diskPaths(Buffer.from(src))).map((p) => p.toString("hex")),
    );
    const odd = all.find((e) => e.pathBytes.equals(joinPath(Buffer.from(src), INVALID_UTF8_NAME)));
    expect(odd?.path).toBe(`${src}/f\ufffd\ufffd`);
    const large = all.find((e) => e.path === `${src}/large.bin`);
    const s = await lstat(join(src, "large.bin"), { bigint: true });
    expect(large).toMatchObject({
      type: "file",
      size: Number(s.size),
      mode: Number(s.mode & 0o7777n),
      mtimeNs: s.mtimeNs.toString(),
    });
    expect(large?.mtime.getTime()).toBe(Number(s.mtimeNs / 1_000_000n));
    expect(all.find((e) => e.path === `${src}/link-rel`)).toMatchObject({
      type: "symlink",
      target: "file.txt",
      size: 0,
    });
    expect(all.find((e) => e.path === `${src}/fifo`)?.type).toBe("fifo");

    const top = await collect(listFiles(repo, snapshot, { path: src }));
    expect(top.map((e) => e.pathBytes.toString("hex")).sort()).toEqual(
      (await readdir(src, { encoding: "buffer" }))
        .map((n) => joinPath(Buffer.from(src), n).toString("hex"))
        .sort(),
    );

    // The root lists the first directory of the backed-up path.
    const root = await collect(listFiles(repo, snapshot));
    expect(root.map((e) => e.path)).toEqual([`/${src.split("/")[1]}`]);

    const one = await collect(listFiles(repo, snapshot, { path: `${src}/sub/hard-b`, recursive: true }));
    expect(one.map((e) => e.path)).toEqual([`${src}/sub/hard-b`]);

    await expect(collect(listFiles(repo, snapshot, { path: `${src}/nope` }))).rejects.toMatchObject({
      code: "path_not_found",
      message: expect.stringContaining(`${src}/nope`),
    });
  });
});
