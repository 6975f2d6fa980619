import { existsSync } from "node:fs";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { loadCheckedTree } from "../browse/snapshot-path.js";
import { craftSnapshot } from "../test-support/craft-snapshot.js";
import { seededBytes, tempRepository } from "../test-support/fixtures.js";
import { joinPath } from "../tree/tree-io.js";
import { nodeNameBytes, type TreeNode } from "../tree/tree-node.js";
import { targetError } from "./restore-fs.js";
import { restoreSnapshot } from "./restorer.js";
import { SmallFileBatcher, TargetWriteError } from "./small-file-batch.js";

const KiB = 1024;
const ODD_NAME = Buffer.from([0x6f, 0xff, 0x0a, 0x80]);

/** Files a batch must handle: several per batch, shared and all-zero blobs, an empty file, a name that is not UTF-8. */
async function smallFilesSnapshot() {
  const { repo, root } = await tempRepository();
  const zero = Buffer.alloc(64 * KiB);
  const part = seededBytes("part", 20 * KiB);
  const [zeroId, partId] = [repo.blobId(zero), repo.blobId(part)];
  const many = Array.from({ length: 70 }, (_, i) => ({
    name: `f${String(i).padStart(2, "0")}`,
    type: "file" as const,
    data: i % 2 ? seededBytes(`f${i}`, 100 + i * 97) : `${"row,value\n".repeat(i * 13)}`,
    meta: {
      mode: i % 3 ? 0o640 : 0o4755,
      mtimeNs: `${1_650_000_000_000_000_000n + BigInt(i) * 1_234_567_891n}`,
    },
  }));
  const snapshot = await craftSnapshot(
    repo,
    [
      ...many,
      { name: "twin", type: "file", data: seededBytes("f1", 197) },
      { name: "empty", type: "file", data: "" },
      { name: ODD_NAME, type: "file", data: "odd\n" },
      // zero, part, zero: holes around data, the zero blob twice in one file.
      { name: "holes", type: "file", content: [zeroId, partId, zeroId], size: 2 * zero.length + part.length },
    ],
    async (session) => {
      await session.saveBlob("data", zero);
      await session.saveBlob("data", part);
    },
  );
  const nodes = (await loadCheckedTree(repo, snapshot.tree)).nodes;
  const expected = new Map<string, Buffer>();
  for (const e of many) expected.set(e.name, Buffer.from(e.data));
  expected.set("twin", seededBytes("f1", 197));
  expected.set("empty", Buffer.alloc(0));
  expected.set(ODD_NAME.toString("latin1"), Buffer.from("odd\n"));
  expected.set("holes", Buffer.concat([zero, part, zero]));
  return { repo, root, nodes, expected };
}

const key = (node: TreeNode) => nodeNameBytes(node).toString("latin1");

describe("small files restored on the blob workers", () => {
  it("writes every file in batches, byte-identical, with holes, odd names, modes and mtimes", async () => {
    const { repo, nodes, expected } = await smallFilesSnapshot();
    try {
      const target = Buffer.from(makeTempDir("batch"));
      const batcher = new SmallFileBatcher(repo);
      const outcomes = await Promise.all(
        nodes.map((node) =>
          batcher.write({ temp: undefined, path: joinPath(target, nodeNameBytes(node)), node, chown: false }),
        ),
      );
      // Every file went through a worker (undefined would mean "write it yourself").
      expect(outcomes).toEqual(nodes.map(() => []));
      for (const node of nodes) {
        const path = joinPath(target, nodeNameBytes(node));
        expect((await readFile(path)).equals(expected.get(key(node)) as Buffer), key(node)).toBe(true);
        const s = await stat(path, { bigint: true });
        expect(Number(s.mode & 0o7777n)).toBe(node.mode);
        // utimes keeps microseconds (restore-fs.ts mtimeSeconds).
        expect(s.mtimeNs / 1000n).toBe(BigInt(node.mtimeNs) / 1000n);
      }
      const holes = await stat(joinPath(target, Buffer.from("holes")));
      expect(holes.blocks * 512).toBeLessThan(100 * KiB);
    } finally {
      await repo.close();
    }
  });

  it("replaces an existing file through its temporary name, leaving nothing else behind", async () => {
    const { repo, nodes, expected } = await smallFilesSnapshot();
    try {
      const dir = makeTempDir("batch-replace");
      await writeFile(join(dir, "f01"), "old content");
      const node = nodes.find((n) => n.name === "f01") as TreeNode;
      const temp = joinPath(Buffer.from(dir), Buffer.from(".pwdr-restore-test"));
      const outcome = await new SmallFileBatcher(repo).write({
        temp,
        path: Buffer.from(join(dir, "f01")),
        node,
        chown: false,
      });
      expect(outcome).toEqual([]);
      expect((await readFile(join(dir, "f01"))).equals(expected.get("f01") as Buffer)).toBe(true);
      expect(await readdir(dir)).toEqual(["f01"]);
    } finally {
      await repo.close();
    }
  });

  it("hands back, unwritten, a file whose blob is damaged or not in the index", async () => {
    const { repo, root, nodes } = await smallFilesSnapshot();
    try {
      const victim = nodes.find((n) => n.name === "f03") as TreeNode;
      const loc = repo.index.lookup(victim.content?.[0] as string)[0];
      if (!loc) throw new Error("blob not indexed");
      const packPath = join(root, "data", loc.pack.slice(0, 2), loc.pack);
      const bytes = await readFile(packPath);
      const at = loc.offset + Math.floor(loc.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0xff;
      await writeFile(packPath, bytes);
      const unknown = { ...victim, name: "unknown", content: ["ab".repeat(32)] };
      const good = nodes.find((n) => n.name === "f04") as TreeNode;

      const dir = makeTempDir("batch-damaged");
      const batcher = new SmallFileBatcher(repo);
      const write = (node: TreeNode) =>
        batcher.write({
          temp: undefined,
          path: Buffer.from(join(dir, node.name as string)),
          node,
          chown: false,
        });
      const [damaged, missing, fine] = await Promise.all([write(victim), write(unknown), write(good)]);
      expect(damaged).toBeUndefined();
      expect(missing).toBeUndefined();
      expect(fine).toEqual([]);
      // Nothing was created for the files handed back; the caller's own path reports the damage.
      expect(await readdir(dir)).toEqual(["f04"]);
    } finally {
      await repo.close();
    }
  });

  it("fails with the system error when the worker cannot create the file; a full disk becomes no_space", async () => {
    const { repo, nodes } = await smallFilesSnapshot();
    try {
      const node = nodes.find((n) => n.name === "f05") as TreeNode;
      const path = Buffer.from(join(makeTempDir("batch-missing"), "no-such-dir", "f05"));
      const failure = new SmallFileBatcher(repo).write({ temp: undefined, path, node, chown: false });
      await expect(failure).rejects.toBeInstanceOf(TargetWriteError);
      await expect(failure).rejects.toMatchObject({ code: "ENOENT", syscall: "open" });
      expect(existsSync(path)).toBe(false);
      const full = new TargetWriteError({
        code: "ENOSPC",
        message: "ENOSPC: no space left on device, write",
      });
      expect(targetError(full, "restoring f05")).toMatchObject({ code: "no_space" });
    } finally {
      await repo.close();
    }
  });

  it("a restore on a stopped worker pool fails with a clear error instead of waiting forever", async () => {
    const { repo } = await smallFilesSnapshot();
    try {
      const snapshot = await craftSnapshot(repo, [
        { name: "d", type: "dir", children: [{ name: "f", type: "file", data: "x\n" }] },
      ]);
      await repo.workers().close();
      const target = makeTempDir("batch-dead-workers");
      await expect(restoreSnapshot(repo, snapshot, { target })).rejects.toMatchObject({
        code: "backend_unavailable",
        message: expect.stringMatching(/^blob worker failed: the pool was closed/),
      });
    } finally {
      await repo.close();
    }
  });
});
