import { existsSync } from "node:fs";
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { beforeEach, describe, expect, it } from "vitest";
import type { Repository } from "../repository.js";
import type { SnapshotEntry } from "../snapshot/snapshot.js";
import { type CraftedEntry, craftSnapshot } from "../test-support/craft-snapshot.js";
import { describeTree } from "../test-support/disk-tree.js";
import { tempRepository } from "../test-support/fixtures.js";
import { type RestoreOptions, restoreSnapshot } from "./restorer.js";

/**
 * §10: a restore writes only inside its target. Each case stores a
 * snapshot a well-behaved archiver never writes, restores it into
 * <base>/target/restore, and checks that <base> holds nothing new: the
 * sentinel directory next to the target is byte-for-byte as before.
 */
describe("restore path safety", () => {
  let repo: Repository;
  let base: string;
  let target: string;
  let sentinel: string;

  beforeEach(async () => {
    ({ repo } = await tempRepository());
    base = makeTempDir("unsafe");
    target = join(base, "target", "restore");
    sentinel = join(base, "sentinel");
    await mkdir(target, { recursive: true });
    await mkdir(sentinel);
    await writeFile(join(sentinel, "victim"), "original\n");
  });

  async function outside(): Promise<string[]> {
    const keys = [...(await describeTree(base)).entries()].map(
      ([k, e]) => `${k} ${e.type} ${e.mtimeNs} ${e.sha256 ?? ""}`,
    );
    return keys.filter((k) => !k.startsWith("target/restore/") && !k.startsWith("target/restore "));
  }

  async function expectRefused(
    snapshot: SnapshotEntry,
    options: Partial<RestoreOptions> = {},
  ): Promise<void> {
    const before = await outside();
    await expect(restoreSnapshot(repo, snapshot, { target, ...options })).rejects.toMatchObject({
      code: "unsafe_path",
      exitCode: 19,
    });
    expect(await outside()).toEqual(before);
    expect(await readFile(join(sentinel, "victim"), "utf8")).toBe("original\n");
  }

  const evil = (children: CraftedEntry[]): CraftedEntry => ({ name: "sentinel", type: "dir", children });

  it('refuses ".." names', async () => {
    await expectRefused(
      await craftSnapshot(repo, [
        {
          name: "..",
          type: "dir",
          children: [
            { name: "..", type: "dir", children: [evil([{ name: "pwned", type: "file", data: "x" }])] },
          ],
        },
      ]),
    );
    await expectRefused(
      await craftSnapshot(repo, [{ name: "..", type: "file", data: "overwrite the parent?" }]),
    );
  });

  it('refuses names with "/", ".", NUL or nothing, at any depth', async () => {
    for (const name of ["../../sentinel/victim", "/etc/passwd", "a/b", ".", "", "nul\0byte"]) {
      await expectRefused(
        await craftSnapshot(repo, [
          { name: "ok", type: "dir", children: [{ name, type: "file", data: "x" }] },
        ]),
      );
    }
    // Raw bytes: a name smuggling "/" past a UTF-8 check.
    await expectRefused(
      await craftSnapshot(repo, [{ name: Buffer.from("../sentinel/victim"), type: "file", data: "x" }]),
    );
  });

  it("refuses a symlink followed by a directory of the same name (one tree listing a name twice)", async () => {
    const snapshot = await craftSnapshot(repo, [
      { name: "a", type: "symlink", target: sentinel },
      { name: "a", type: "dir", children: [{ name: "pwned", type: "file", data: "x" }] },
    ]);
    await expectRefused(snapshot);
    expect(existsSync(join(sentinel, "pwned"))).toBe(false);
  });

  it("refuses a symlink pointing outside followed by a file of the same name", async () => {
    const snapshot = await craftSnapshot(repo, [
      { name: "victim", type: "symlink", target: join(sentinel, "victim") },
      { name: "victim", type: "file", data: "pwned\n" },
    ]);
    await expectRefused(snapshot);
  });

  it("never restores through a symlink already in the target, whatever the overwrite mode", async () => {
    await symlink(sentinel, join(target, "a"));
    const snapshot = await craftSnapshot(repo, [
      { name: "a", type: "dir", children: [{ name: "victim", type: "file", data: "pwned\n" }] },
    ]);
    for (const overwrite of ["always", "if-changed", "never"] as const)
      await expectRefused(snapshot, { overwrite });
    await expectRefused(snapshot, { dryRun: true });
    // The same through an include path and its parents.
    await expectRefused(snapshot, { include: ["/a/victim"] });
  });

  it("replaces a symlink in the target by the snapshot's file instead of writing through it", async () => {
    await symlink(join(sentinel, "victim"), join(target, "victim"));
    const snapshot = await craftSnapshot(repo, [{ name: "victim", type: "file", data: "restored\n" }]);
    const before = await outside();
    await restoreSnapshot(repo, snapshot, { target, overwrite: "never" });
    expect(await readlink(join(target, "victim"))).toBe(join(sentinel, "victim"));
    for (const overwrite of ["if-changed", "always"] as const) {
      await symlink(join(sentinel, "victim"), join(target, "victim")).catch(() => {});
      await restoreSnapshot(repo, snapshot, { target, overwrite });
      expect((await lstat(join(target, "victim"))).isFile()).toBe(true);
      expect(await readFile(join(target, "victim"), "utf8")).toBe("restored\n");
    }
    expect(await outside()).toEqual(before);
    expect(await readFile(join(sentinel, "victim"), "utf8")).toBe("original\n");
  });

  it("restores symlinks pointing outside as links, never following them afterwards", async () => {
    const snapshot = await craftSnapshot(repo, [
      { name: "out", type: "symlink", target: "../../sentinel" },
      { name: "abs", type: "symlink", target: join(sentinel, "victim") },
      { name: "z", type: "file", data: "after the links\n" },
    ]);
    const before = await outside();
    await restoreSnapshot(repo, snapshot, { target });
    expect(await readlink(join(target, "out"))).toBe("../../sentinel");
    expect(await readlink(join(target, "abs"))).toBe(join(sentinel, "victim"));
    expect(await outside()).toEqual(before);
    // Restoring a path below the link is refused rather than followed.
    const below = await craftSnapshot(repo, [
      { name: "out", type: "dir", children: [{ name: "victim", type: "file", data: "pwned\n" }] },
    ]);
    await expectRefused(below);
  });

  it("refuses '.' and '..' in include paths", async () => {
    const snapshot = await craftSnapshot(repo, [{ name: "a", type: "file", data: "x" }]);
    await expect(
      restoreSnapshot(repo, snapshot, { target, include: ["/../sentinel"] }),
    ).rejects.toMatchObject({
      code: "invalid_argument",
    });
    expect(await readdir(target)).toEqual([]);
  });
});
