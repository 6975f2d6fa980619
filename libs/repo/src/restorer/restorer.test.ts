import { existsSync } from "node:fs";
import { chmod, lstat, mkdir, open, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { craftSnapshot } from "../test-support/craft-snapshot.js";
import {
  backUp,
  buildFixtureTree,
  describeTree,
  diffTrees,
  INVALID_UTF8_NAME,
  IS_ROOT,
  sha256File,
  writeSparse,
} from "../test-support/disk-tree.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import { findNode, splitPath } from "../tree/tree-io.js";
import { type RestoreItem, type RestoreProgress, restoreSnapshot } from "./restorer.js";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

async function restoredFixture() {
  const { repo, root } = await tempRepository();
  const base = makeTempDir("restore");
  const src = join(base, "src");
  const { devices } = await buildFixtureTree(src);
  const snapshot = await backUp(repo, src);
  return { repo, root, base, src, snapshot, devices };
}

describe("restoreSnapshot", () => {
  it("reproduces a backed-up tree: content, modes, owners, mtimes, links, holes, odd names, FIFOs", async () => {
    const { repo, base, src, snapshot, devices } = await restoredFixture();
    const target = join(base, "target");
    const progress: RestoreProgress[] = [];
    const result = await restoreSnapshot(repo, snapshot, { target, onProgress: (p) => progress.push(p) });

    const expected = await describeTree(src);
    const actual = await describeTree(join(target, src));
    expect(diffTrees(expected, actual)).toEqual([]);
    // The comparison really covered what it claims to.
    const types = new Set([...actual.values()].map((e) => e.type));
    expect(types).toEqual(new Set(["file", "dir", "symlink", "fifo", ...(devices ? ["chardev"] : [])]));
    expect([...actual.values()].filter((e) => e.linkGroup).length).toBe(3);
    if (IS_ROOT)
      expect(actual.get("owned [6f776e6564]")).toMatchObject({ uid: 1234, gid: 5678, mode: 0o600 });
    expect(actual.get("setuid [736574756964]")?.mode).toBe(0o4755);
    expect(actual.get("sticky [737469636b79]")?.mode).toBe(0o1777);

    // Hardlinks share one inode; the sparse file's hole stays a hole.
    const [a, b] = await Promise.all([
      stat(join(target, src, "hard-a")),
      stat(join(target, src, "sub/hard-b")),
    ]);
    expect(a.ino).toBe(b.ino);
    expect(a.nlink).toBe(3);
    const sparse = await stat(join(target, src, "sparse.bin"));
    expect(sparse.size).toBe(20 * MiB);
    expect(sparse.blocks * 512).toBeLessThanOrEqual(12 * MiB);
    // Symlinks are links, not copies of what they point to.
    expect((await lstat(join(target, src, "link-abs"))).isSymbolicLink()).toBe(true);
    expect((await lstat(join(target, src, "link-dir"))).isSymbolicLink()).toBe(true);

    expect(result.errors).toEqual([]);
    expect(result.files).toBe([...actual.values()].filter((e) => e.type !== "dir").length);
    expect(result.skipped).toBe(0);
    const last = progress.at(-1);
    expect(last).toMatchObject({ phase: "done", totalFiles: result.files, files: result.files });
    expect(last?.bytes).toBe(last?.totalBytes);
    // No temporary file is left anywhere.
    expect(
      [...(await describeTree(target, () => false)).keys()].filter((k) => k.includes(".pwdr-restore-")),
    ).toEqual([]);
  });

  it("restores a sub-tree or single files, in place or stripped into the target", async () => {
    const { repo, base, src, snapshot } = await restoredFixture();

    const inPlace = join(base, "in-place");
    await restoreSnapshot(repo, snapshot, { target: inPlace, include: [`${src}/sub`, `${src}/file.txt`] });
    expect((await readdir(join(inPlace, src))).sort()).toEqual(["file.txt", "sub"]);
    const full = await describeTree(src);
    // hard-b's other links are not part of the selection: it comes back as a file of its own.
    const expectedSub = await describeTree(join(src, "sub"));
    delete expectedSub.get("hard-b [686172642d62]")?.linkGroup;
    expect(diffTrees(expectedSub, await describeTree(join(inPlace, src, "sub")))).toEqual([]);
    // The directories above an included path get their snapshot metadata too.
    const srcDir = await stat(join(inPlace, src));
    expect(srcDir.mtimeMs).toBeCloseTo((await stat(src)).mtimeMs, 0);

    const stripped = join(base, "stripped");
    await restoreSnapshot(repo, snapshot, { target: stripped, include: [`${src}/sub`], stripPrefix: true });
    expect((await readdir(stripped)).sort()).toEqual(["deep", "hard-b"]);
    expect(await readFile(join(stripped, "deep/a/b/leaf"), "utf8")).toBe("deep leaf\n");

    const one = join(base, "one-file");
    await restoreSnapshot(repo, snapshot, { target: one, include: [`${src}/large.bin`], stripPrefix: true });
    expect(await readdir(one)).toEqual(["large.bin"]);
    expect(await sha256File(join(one, "large.bin"))).toBe(await sha256File(join(src, "large.bin")));

    // Without include, stripPrefix strips the snapshot's single backed-up path.
    const whole = join(base, "whole");
    await restoreSnapshot(repo, snapshot, { target: whole, stripPrefix: true });
    expect(diffTrees(full, await describeTree(whole))).toEqual([]);

    await expect(
      restoreSnapshot(repo, snapshot, { target: join(base, "nope"), include: [`${src}/missing`] }),
    ).rejects.toMatchObject({
      code: "path_not_found",
      exitCode: 22,
      message: expect.stringContaining("missing"),
    });
    await expect(
      restoreSnapshot(repo, snapshot, { target: join(base, "nope"), include: [`${src}/file.txt/x`] }),
    ).rejects.toMatchObject({ code: "path_not_found" });
    expect(existsSync(join(base, "nope", src))).toBe(false);
  });

  it("restores into a non-empty target per overwrite mode; dry-run reports the same and writes nothing", async () => {
    const { repo } = await tempRepository();
    const base = makeTempDir("overwrite");
    const src = join(base, "src");
    await mkdir(join(src, "d"), { recursive: true });
    const files = [
      ["same", "same\n"],
      ["changed", "original\n"],
      ["mode", "mode\n"],
      ["touched", "touched\n"],
      ["gone", "gone\n"],
    ];
    for (const [name, body] of files) {
      await writeFile(join(src, name as string), body as string);
    }
    await writeFile(join(src, "d/inner"), "inner\n");
    const snapshot = await backUp(repo, src);
    const target = join(base, "target");
    await restoreSnapshot(repo, snapshot, { target, stripPrefix: true });

    // Change the restored copy: other bytes of the same size, a mode, an mtime, a deletion, an extra file.
    await writeFile(join(target, "changed"), "ORIGINAL\n");
    await chmod(join(target, "mode"), 0o600);
    await utimes(join(target, "touched"), 1_000_000_000, 1_000_000_000);
    await rm(join(target, "gone"));
    await writeFile(join(target, "extra"), "not in the snapshot\n");
    const inodeOfSame = (await stat(join(target, "same"))).ino;

    const run = async (overwrite: "always" | "if-changed" | "never", dryRun = false) => {
      const items: RestoreItem[] = [];
      const before = await describeTree(target);
      const result = await restoreSnapshot(repo, snapshot, {
        target,
        stripPrefix: true,
        overwrite,
        dryRun,
        onItem: (i) => items.push(i),
      });
      const actions = Object.fromEntries(items.map((i) => [i.path.slice(src.length + 1), i.action]));
      if (dryRun) expect(diffTrees(before, await describeTree(target))).toEqual([]);
      return { result, actions };
    };

    for (const dry of [true, false]) {
      const never = await run("never", dry);
      expect(never.actions).toEqual({
        same: "skip",
        changed: "skip",
        mode: "skip",
        touched: "skip",
        gone: "create",
        d: "skip",
        "d/inner": "skip",
      });
      expect(never.result).toMatchObject({ files: 1, skipped: 6, unchanged: 0 });
    }
    expect(await readFile(join(target, "changed"), "utf8")).toBe("ORIGINAL\n");
    expect(await readFile(join(target, "gone"), "utf8")).toBe("gone\n");

    for (const dry of [true, false]) {
      const ifChanged = await run("if-changed", dry);
      expect(ifChanged.actions).toEqual({
        same: "unchanged",
        changed: "replace",
        mode: "update-metadata",
        touched: "update-metadata",
        gone: "unchanged",
        d: "unchanged",
        "d/inner": "unchanged",
      });
      expect(ifChanged.result).toMatchObject({ files: 3, skipped: 4, unchanged: 4 });
    }
    expect(await readFile(join(target, "changed"), "utf8")).toBe("original\n");
    expect((await stat(join(target, "mode"))).mode & 0o777).toBe(
      (await stat(join(src, "mode"))).mode & 0o777,
    );
    expect((await stat(join(target, "same"))).ino).toBe(inodeOfSame);
    expect((await stat(join(target, "touched"))).mtimeMs).toBeCloseTo(
      (await stat(join(src, "touched"))).mtimeMs,
      0,
    );

    const always = await run("always");
    // Directories are not replaced; one whose metadata already matches counts as unchanged.
    expect(always.actions).toMatchObject({ same: "replace", d: "unchanged", "d/inner": "replace" });
    expect(always.result).toMatchObject({ files: 6, skipped: 1, unchanged: 1 });
    expect((await stat(join(target, "same"))).ino).not.toBe(inodeOfSame);
    expect(await readFile(join(target, "extra"), "utf8")).toBe("not in the snapshot\n");
    const expected = await describeTree(src);
    const actual = await describeTree(target);
    actual.delete("extra [6578747261]");
    expect(diffTrees(expected, actual)).toEqual([]);
  });

  it("dry-run into a missing target creates nothing and lists what a restore would write", async () => {
    const { repo, base, src, snapshot } = await restoredFixture();
    const target = join(base, "dry");
    const items: RestoreItem[] = [];
    const dry = await restoreSnapshot(repo, snapshot, { target, dryRun: true, onItem: (i) => items.push(i) });
    expect(existsSync(target)).toBe(false);
    expect(new Set(items.map((i) => i.action))).toEqual(new Set(["create"]));
    expect(items.map((i) => i.path)).toContain(`${src}/large.bin`);
    expect(items.some((i) => i.targetPath.includes(INVALID_UTF8_NAME))).toBe(true);
    const real = await restoreSnapshot(repo, snapshot, { target });
    expect(dry).toEqual(real);
  });

  it("replaces a directory in the way of a file and a file in the way of a directory (always), skips them (never)", async () => {
    const { repo } = await tempRepository();
    const snapshot = await craftSnapshot(repo, [
      { name: "was-dir", type: "file", data: "now a file\n" },
      { name: "was-file", type: "dir", children: [{ name: "x", type: "file", data: "x\n" }] },
    ]);
    const target = makeTempDir("in-the-way");
    await mkdir(join(target, "was-dir/sub"), { recursive: true });
    await writeFile(join(target, "was-dir/sub/old"), "old\n");
    await writeFile(join(target, "was-file"), "old file\n");
    const never = await restoreSnapshot(repo, snapshot, { target, overwrite: "never" });
    expect(never).toMatchObject({ files: 0, skipped: 2 });
    expect((await stat(join(target, "was-file"))).isFile()).toBe(true);
    await restoreSnapshot(repo, snapshot, { target });
    expect(await readFile(join(target, "was-dir"), "utf8")).toBe("now a file\n");
    expect(await readFile(join(target, "was-file/x"), "utf8")).toBe("x\n");
  });

  async function damagedSnapshot(victim: "big" | "small") {
    const { repo, root } = await tempRepository({
      chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024, gearSeed: "ab".repeat(32) },
      packSize: 256 * 1024,
    });
    const base = makeTempDir("damaged");
    const src = join(base, "src");
    await mkdir(src);
    await writeFile(join(src, "a-good"), "fine\n");
    await writeFile(join(src, "big"), seededBytes("damaged", 2 * MiB));
    await writeFile(join(src, "small"), seededBytes("damaged small", 300 * 1024));
    const snapshot = await backUp(repo, src);
    const node = await findNode(repo, snapshot.tree, splitPath(`${src}/${victim}`));
    const content = node?.content ?? [];
    expect(content.length).toBeGreaterThan(3);
    // Flip one byte inside a blob in the middle of the file.
    const loc = repo.index.lookup(content[Math.floor(content.length / 2)] as string)[0];
    if (!loc) throw new Error("blob not indexed");
    const packPath = join(root, "data", loc.pack.slice(0, 2), loc.pack);
    const bytes = await readFile(packPath);
    const at = loc.offset + Math.floor(loc.length / 2);
    bytes[at] = (bytes[at] as number) ^ 0xff;
    await writeFile(packPath, bytes);
    return { repo, base, src, snapshot };
  }

  it.each(["big", "small"] as const)(
    "fails loudly on a damaged blob (%s file) and leaves no partial file under the real name",
    async (victim) => {
      const { repo, base, src, snapshot } = await damagedSnapshot(victim);
      // Into an existing directory (the target): written under temporary names.
      const target = join(base, "target");
      await expect(restoreSnapshot(repo, snapshot, { target, stripPrefix: true })).rejects.toMatchObject({
        code: "data_corrupt",
      });
      expect((await readdir(target)).sort()).toEqual(["a-good", victim === "big" ? "small" : "big"].sort());
      // Into directories the restore creates: written at their real names, removed on failure.
      const fresh = join(base, "fresh");
      await expect(restoreSnapshot(repo, snapshot, { target: fresh })).rejects.toMatchObject({
        code: "data_corrupt",
      });
      expect(await readdir(join(fresh, src))).not.toContain(victim);
    },
  );

  it("writes fresh directories' files in place and replaces existing files only by rename", async () => {
    const { repo } = await tempRepository();
    const snapshot = await craftSnapshot(repo, [
      { name: "d", type: "dir", children: [{ name: "f", type: "file", data: "new\n" }] },
    ]);
    const target = makeTempDir("in-place");
    await restoreSnapshot(repo, snapshot, { target });
    const first = await stat(join(target, "d/f"));
    expect(await readFile(join(target, "d/f"), "utf8")).toBe("new\n");
    await writeFile(join(target, "d/f"), "old\n");
    const held = await open(join(target, "d/f"), "r");
    try {
      await restoreSnapshot(repo, snapshot, { target });
      // A rename leaves the file an open handle holds alone: the old content stays readable through it.
      expect((await held.readFile()).toString()).toBe("old\n");
    } finally {
      await held.close();
    }
    expect(await readFile(join(target, "d/f"), "utf8")).toBe("new\n");
    expect((await stat(join(target, "d/f"))).ino).not.toBe(first.ino);
  });

  it("restores a 5 GiB sparse file: offsets past 4 GiB, holes kept, the zero blob loaded once", async () => {
    const { repo } = await tempRepository();
    const zero = Buffer.alloc(4 * MiB);
    const head = Buffer.from("HEAD");
    const mid = Buffer.from("MIDDLE");
    const tail = Buffer.from("TAIL");
    const zeroId = repo.blobId(zero);
    const content = [
      repo.blobId(head),
      ...Array(1024).fill(zeroId),
      repo.blobId(mid),
      ...Array(256).fill(zeroId),
      repo.blobId(tail),
    ];
    const size = 4 + 1280 * 4 * MiB + 6 + 4;
    const snapshot = await craftSnapshot(repo, [{ name: "huge", type: "file", content, size }], async (s) => {
      for (const b of [zero, head, mid, tail]) await s.saveBlob("data", b);
    });
    let zeroLoads = 0;
    const counting = {
      backend: repo.backend,
      loadJson: repo.loadJson.bind(repo),
      saveJson: repo.saveJson.bind(repo),
      index: repo.index,
      loadIndex: () => repo.loadIndex(),
      blobId: (data: Uint8Array) => repo.blobId(data),
      workers: () => repo.workers(),
      loadBlob: (id: string, type?: "data" | "tree") => {
        if (id === zeroId) zeroLoads++;
        return repo.loadBlob(id, type);
      },
    };
    const target = makeTempDir("huge");
    await restoreSnapshot(counting, snapshot, { target });
    expect(zeroLoads).toBe(1);
    const path = join(target, "huge");
    const s = await stat(path);
    expect(s.size).toBe(size);
    expect(s.size).toBeGreaterThan(5 * GiB);
    expect(s.blocks * 512).toBeLessThan(MiB);
    const fh = await open(path, "r");
    try {
      const read = async (at: number, n: number) => {
        const buf = Buffer.alloc(n);
        await fh.read(buf, 0, n, at);
        return buf.toString();
      };
      expect(await read(0, 4)).toBe("HEAD");
      expect(await read(4 + 1024 * 4 * MiB, 6)).toBe("MIDDLE");
      expect(await read(size - 4, 4)).toBe("TAIL");
      expect(await read(3 * GiB, 4)).toBe("\0\0\0\0");
    } finally {
      await fh.close();
    }
    const again = await restoreSnapshot(counting, snapshot, { target, overwrite: "if-changed" });
    expect(again).toMatchObject({ unchanged: 1, files: 0 });
  });

  // The archiver reads the whole 5 GiB (holes included) and hashes it: about half a minute here.
  it.runIf(process.env.PWDR_SLOW_TESTS === "1")(
    "round-trips a 5 GiB sparse file through the archiver",
    async () => {
      const { repo } = await tempRepository();
      const base = makeTempDir("huge-archiver");
      const src = join(base, "src");
      await mkdir(src);
      const size = 5 * GiB + 17;
      await writeSparse(join(src, "huge"), size, [
        { offset: 1234, data: Buffer.from("start") },
        { offset: 4 * GiB + 1, data: Buffer.from("past 4 GiB") },
        { offset: size - 3, data: Buffer.from("end") },
      ]);
      const snapshot = await backUp(repo, src);
      const target = join(base, "target");
      await restoreSnapshot(repo, snapshot, { target, stripPrefix: true });
      const s = await stat(join(target, "huge"));
      expect(s.size).toBe(size);
      expect(s.blocks * 512).toBeLessThan(64 * MiB);
      expect(await sha256File(join(target, "huge"))).toBe(await sha256File(join(src, "huge")));
    },
    600_000,
  );

  it("leaves owners alone with sameOwner: false", async () => {
    const { repo } = await tempRepository();
    const snapshot = await craftSnapshot(repo, [
      { name: "f", type: "file", data: "x", meta: { uid: 4242, gid: 4343 } },
    ]);
    const target = makeTempDir("owner");
    const result = await restoreSnapshot(repo, snapshot, { target, sameOwner: false });
    expect(result.errors).toEqual([]);
    expect((await stat(join(target, "f"))).uid).toBe(process.getuid?.());
    if (IS_ROOT) {
      await restoreSnapshot(repo, snapshot, { target: join(target, "as-root") });
      expect(await stat(join(target, "as-root", "f"))).toMatchObject({ uid: 4242, gid: 4343 });
    }
  });
});
