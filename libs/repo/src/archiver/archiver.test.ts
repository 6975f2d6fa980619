import { chmod, mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it, vi } from "vitest";
import type { Backend } from "../backend/backend.js";
import { isRepoError } from "../errors.js";
import { Repository } from "../repository.js";
import { listSnapshots } from "../snapshot/snapshot.js";
import { PASSWORD, seededBytes, tempRepository, withoutStaging } from "../test-support/fixtures.js";
import { findNode, splitPath, walkTree } from "../tree/tree-io.js";
import { nodeDisplayName } from "../tree/tree-node.js";
import { Backup } from "./archiver.js";

async function fixture(): Promise<string> {
  const root = join(await makeTempDir("pwdr-arch-"), "site");
  await mkdir(join(root, "scans", "cache"), { recursive: true });
  await writeFile(join(root, "scans", "a.csv"), "mac,rssi\n".repeat(1000));
  await writeFile(join(root, "scans", "big.bin"), seededBytes("big", 3 * 1024 * 1024));
  await writeFile(join(root, "scans", "cache", "tmp.dat"), "x");
  await writeFile(join(root, "scans", "skip.tmp"), "x");
  return root;
}

async function filesOf(repo: Parameters<typeof walkTree>[0], tree: string): Promise<string[]> {
  const out: string[] = [];
  for await (const w of walkTree(repo, tree)) out.push(`${w.node.type}:${w.path.toString()}`);
  return out;
}

describe("archiver", () => {
  it("backs up a tree under its absolute path, honouring excludes", async () => {
    const { repo } = await tempRepository();
    const src = await fixture();
    const backup = await Backup.start(repo, { host: "pi-1", tags: ["daily"], exclude: ["*.tmp", "cache"] });
    await backup.addPath(src);
    const { id, snapshot } = await backup.finish();
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(snapshot).toMatchObject({ host: "pi-1", tags: ["daily"], paths: [src] });
    const files = await filesOf(repo, snapshot.tree);
    expect(files).toContain(`file:${src}/scans/a.csv`);
    expect(files).toContain(`file:${src}/scans/big.bin`);
    expect(files.some((f) => f.includes("skip.tmp") || f.includes("cache"))).toBe(false);
    const big = await findNode(repo, snapshot.tree, splitPath(`${src}/scans/big.bin`));
    expect(big?.size).toBe(3 * 1024 * 1024);
    const bytes = Buffer.concat(await Promise.all((big?.content ?? []).map((b) => repo.loadBlob(b))));
    expect(bytes.equals(seededBytes("big", 3 * 1024 * 1024))).toBe(true);
  });

  it("skips unchanged files against the parent and re-reads changed ones", async () => {
    const { repo } = await tempRepository();
    const src = await fixture();
    const first = await Backup.start(repo, {});
    await first.addPath(src);
    const one = await first.finish();
    const [parent] = await listSnapshots(repo);
    await writeFile(join(src, "scans", "a.csv"), "mac,rssi\nchanged\n");
    await utimes(join(src, "scans", "a.csv"), new Date(), new Date(Date.now() + 5000));
    const progress: number[] = [];
    const second = await Backup.start(repo, {
      parent: parent as NonNullable<typeof parent>,
      onProgress: (p) => progress.push(p.filesUnchanged),
    });
    await second.addPath(src);
    const two = await second.finish();
    expect(two.snapshot.parent).toBe(one.id);
    expect(Math.max(...progress)).toBe(3);
    expect(two.snapshot.summary.addedBytes).toBeLessThan(2_000);
    const a = await findNode(repo, two.snapshot.tree, splitPath(`${src}/scans/a.csv`));
    expect(a?.size).toBe("mac,rssi\nchanged\n".length);
  });

  it("keeps the parent's trees for unchanged directories and records metadata-only changes", async () => {
    const { repo } = await tempRepository();
    const src = await fixture();
    const backUp = async () => {
      const [parent] = (await listSnapshots(repo)).slice(-1);
      const backup = await Backup.start(repo, parent ? { parent } : {});
      await backup.addPath(src);
      return (await backup.finish()).snapshot;
    };
    const scans = async (tree: string) => (await findNode(repo, tree, splitPath(`${src}/scans`)))?.subtree;
    const one = await backUp();
    const two = await backUp();
    // Compared below the backed-up path: /tmp above it changes as other tests run.
    const site = async (tree: string) => (await findNode(repo, tree, splitPath(src)))?.subtree;
    expect(await site(two.tree)).toBe(await site(one.tree));
    expect(two.summary).toMatchObject({ files: 4, dirs: 3 });

    await chmod(join(src, "scans", "cache", "tmp.dat"), 0o600);
    const three = await backUp();
    expect(await scans(three.tree)).not.toBe(await scans(one.tree));
    const tmp = await findNode(repo, three.tree, splitPath(`${src}/scans/cache/tmp.dat`));
    const before = await findNode(repo, one.tree, splitPath(`${src}/scans/cache/tmp.dat`));
    expect(tmp).toMatchObject({ mode: 0o600, content: before?.content });
    const big = (tree: string) => findNode(repo, tree, splitPath(`${src}/scans/big.bin`));
    expect(await big(three.tree)).toEqual(await big(one.tree));
  });

  it("stores a byte stream as a file at a virtual path", async () => {
    const { repo } = await tempRepository();
    const backup = await Backup.start(repo, { source: { kind: "postgres", name: "db" } });
    async function* dump() {
      for (let i = 0; i < 10; i++) yield seededBytes(`dump${i}`, 500_000);
    }
    await backup.addStream("/postgres/piwardrive.dump", dump());
    const { snapshot } = await backup.finish();
    expect(snapshot.paths).toEqual(["/postgres/piwardrive.dump"]);
    const node = await findNode(repo, snapshot.tree, splitPath("/postgres/piwardrive.dump"));
    expect(node && nodeDisplayName(node)).toBe("piwardrive.dump");
    expect(node?.size).toBe(5_000_000);
  });

  it("stores concurrent streams into one backup, each intact, storing identical chunks once", async () => {
    const { repo } = await tempRepository();
    const backup = await Backup.start(repo, {});
    const parts = (seed: string) => Array.from({ length: 6 }, (_, i) => seededBytes(`${seed}${i}`, 500_000));
    async function* dump(seed: string) {
      for (const part of parts(seed)) {
        yield part;
        await new Promise((r) => setImmediate(r));
      }
    }
    const streams = { "/pg/a.dump": "a", "/pg/b.dump": "b", "/pg/a-copy.dump": "a" };
    await Promise.all(Object.entries(streams).map(([path, seed]) => backup.addStream(path, dump(seed))));
    const { snapshot } = await backup.finish();
    expect(snapshot.paths).toEqual(["/pg/a-copy.dump", "/pg/a.dump", "/pg/b.dump"]);
    for (const [path, seed] of Object.entries(streams)) {
      const node = await findNode(repo, snapshot.tree, splitPath(path));
      const bytes = Buffer.concat(await Promise.all((node?.content ?? []).map((b) => repo.loadBlob(b))));
      expect(bytes.equals(Buffer.concat(parts(seed))), path).toBe(true);
    }
    // Random bytes do not compress: two streams' worth, the copy deduplicated.
    expect(snapshot.summary.addedBytes).toBeLessThan(2 * 3_000_000 + 100_000);
  });

  it("keeps a concurrent stream going when another fails, and an aborted backup leaves no snapshot", async () => {
    const { repo } = await tempRepository();
    const backup = await Backup.start(repo, {});
    async function* failing() {
      yield seededBytes("partial", 2_000_000);
      throw new Error("dump died");
    }
    async function* good() {
      for (let i = 0; i < 4; i++) yield seededBytes(`good${i}`, 500_000);
    }
    const [bad, ok] = await Promise.allSettled([
      backup.addStream("/pg/bad.dump", failing()),
      backup.addStream("/pg/good.dump", good()),
    ]);
    expect(bad).toMatchObject({ status: "rejected", reason: { message: "dump died" } });
    expect(ok.status).toBe("fulfilled");
    await backup.abort();
    expect(await listSnapshots(repo)).toHaveLength(0);
    const retry = await Backup.start(repo, {});
    await retry.addStream("/pg/good.dump", good());
    expect((await retry.finish()).snapshot.paths).toEqual(["/pg/good.dump"]);
    expect(await listSnapshots(repo)).toHaveLength(1);
  });

  it("refuses a path that does not exist, naming it", async () => {
    const { repo } = await tempRepository();
    const backup = await Backup.start(repo, {});
    const err = await backup.addPath("/nonexistent/pwdr").catch((e: unknown) => e);
    expect(isRepoError(err, "invalid_argument")).toBe(true);
    expect((err as Error).message).toContain("/nonexistent/pwdr");
  });

  it("walks on to the next directories while earlier files are still being stored", async () => {
    const { backend } = await tempRepository();
    const src = join(await makeTempDir("pwdr-arch-"), "site");
    for (let d = 0; d < 8; d++) {
      await mkdir(join(src, `d${d}`), { recursive: true });
      for (let f = 0; f < 2; f++)
        await writeFile(join(src, `d${d}`, `f${f}.json`), seededBytes(`${d}/${f}`, 5000));
    }
    // Pack appends wait for the gate: no file is stored until it opens.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const gated: Backend = {
      ...withoutStaging(backend),
      stage: async (type) => {
        const staged = await backend.stage(type);
        return {
          append: (parts) => gate.then(() => staged.append(parts)),
          commit: (name) => staged.commit(name),
          discard: () => staged.discard(),
        };
      },
    };
    const repo = await Repository.open(gated, PASSWORD);
    const backup = await Backup.start(repo, {});
    const added = backup.addPath(src);
    try {
      // Waiting for each directory's files before the next, the walk would stop in d0.
      await vi.waitFor(() => expect(backup.progress.dirs).toBe(9), { timeout: 5_000 });
    } finally {
      open();
    }
    await added;
    const { snapshot } = await backup.finish();
    const files = (await filesOf(repo, snapshot.tree)).filter((f) => f.startsWith("file:"));
    expect(files).toHaveLength(16);
    await repo.close();
  });
});
