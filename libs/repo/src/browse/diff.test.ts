import { chmod, mkdir, rm, symlink, unlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { backUp } from "../test-support/disk-tree.js";
import { tempRepository } from "../test-support/fixtures.js";
import { findNode, splitPath } from "../tree/tree-io.js";
import { type DiffChange, diffSnapshots } from "./diff.js";

describe("diffSnapshots", () => {
  it("reports added, removed, modified, type-changed and metadata-only entries, skipping identical subtrees", async () => {
    const { repo } = await tempRepository();
    const src = join(makeTempDir("diff"), "src");
    await mkdir(join(src, "big/inner"), { recursive: true });
    for (let i = 0; i < 20; i++) await writeFile(join(src, "big/inner", `f${i}`), `file ${i}\n`);
    await mkdir(join(src, "olddir"));
    await writeFile(join(src, "olddir/child"), "child\n");
    await writeFile(join(src, "gone.txt"), "gone\n");
    await writeFile(join(src, "mod.txt"), "before\n");
    await writeFile(join(src, "meta.txt"), "meta\n");
    await writeFile(join(src, "swap"), "a file\n");
    await symlink("mod.txt", join(src, "link"));
    const a = await backUp(repo, src);

    await writeFile(join(src, "new.txt"), "brand new\n");
    await mkdir(join(src, "newdir"));
    await writeFile(join(src, "newdir/f"), "in new dir\n");
    await unlink(join(src, "gone.txt"));
    await rm(join(src, "olddir"), { recursive: true });
    await writeFile(join(src, "mod.txt"), "after, longer\n");
    await chmod(join(src, "meta.txt"), 0o600);
    await unlink(join(src, "swap"));
    await mkdir(join(src, "swap"));
    await writeFile(join(src, "swap/x"), "x\n");
    await unlink(join(src, "link"));
    await symlink("meta.txt", join(src, "link"));
    await utimes(join(src, "big"), 1_600_000_000, 1_600_000_000);
    const b = await backUp(repo, src);
    // "big" changed only its own mtime: its subtree (big/inner and below) is the same tree blob.
    const bigTree = (await findNode(repo, a.tree, splitPath(`${src}/big`)))?.subtree;
    expect(bigTree).toBe((await findNode(repo, b.tree, splitPath(`${src}/big`)))?.subtree);

    const loaded: string[] = [];
    const counting = {
      index: repo.index,
      loadIndex: () => repo.loadIndex(),
      loadBlob: (id: string, type?: "data" | "tree") => {
        loaded.push(id);
        return repo.loadBlob(id, type);
      },
    };
    const diff = diffSnapshots(counting, a, b);
    const changes: DiffChange[] = [];
    for await (const c of diff) changes.push(c);
    const rel = changes
      .filter((c) => c.path.startsWith(`${src}/`) || c.path === src)
      .map((c) => `${c.change} ${c.path.slice(src.length) || "."}`);
    expect(rel).toEqual([
      "U .",
      "U /big",
      "- /gone.txt",
      "M /link",
      "U /meta.txt",
      "M /mod.txt",
      "+ /new.txt",
      "+ /newdir",
      "+ /newdir/f",
      "- /olddir",
      "- /olddir/child",
      "T /swap",
      "+ /swap/x",
    ]);
    expect(loaded).not.toContain(bigTree);
    expect(diff.totals).toMatchObject({ added: 4, removed: 3, modified: 2, typeChanged: 1 });
    expect(diff.totals.metadataOnly).toBeGreaterThanOrEqual(3);
    expect(diff.totals.addedBytes).toBe(
      ["brand new\n", "in new dir\n", "x\n", "after, longer\n"].join("").length,
    );
    expect(diff.totals.removedBytes).toBe(["gone\n", "child\n", "a file\n", "before\n"].join("").length);
    const swap = changes.find((c) => c.change === "T");
    expect(swap).toMatchObject({ type: "dir", before: { type: "file" }, after: { type: "dir" } });

    const same = diffSnapshots(repo, a, a);
    for await (const c of same) throw new Error(`unexpected change ${c.path}`);
    expect(same.totals.added + same.totals.removed + same.totals.modified).toBe(0);
  });
});
