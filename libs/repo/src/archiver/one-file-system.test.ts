import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { tempRepository } from "../test-support/fixtures.js";
import { walkTree } from "../tree/tree-io.js";
import { Backup } from "./archiver.js";

/** Mounting a tmpfs needs root (and a kernel that lets this process mount); elsewhere the test cannot set up its second file system. */
function canMount(): boolean {
  return process.getuid?.() === 0;
}

describe.runIf(canMount())("one-file-system", () => {
  const mounted: string[] = [];
  afterAll(() => {
    for (const m of mounted) execFileSync("umount", [m]);
  });

  it("records a directory on another file system but does not descend into it", async () => {
    const root = join(await makeTempDir("pwdr-1fs-"), "src");
    await mkdir(join(root, "mnt"), { recursive: true });
    await writeFile(join(root, "here.txt"), "on the backed-up file system");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", join(root, "mnt")]);
    mounted.push(join(root, "mnt"));
    await writeFile(join(root, "mnt", "elsewhere.txt"), "on the tmpfs");

    const { repo } = await tempRepository();
    const paths = async (oneFileSystem: boolean) => {
      const backup = await Backup.start(repo, { oneFileSystem });
      await backup.addPath(root);
      const { snapshot } = await backup.finish();
      const out: string[] = [];
      for await (const w of walkTree(repo, snapshot.tree)) out.push(w.path.toString());
      return out;
    };
    const crossing = await paths(false);
    expect(crossing).toContain(`${root}/mnt/elsewhere.txt`);
    const staying = await paths(true);
    expect(staying).toContain(`${root}/here.txt`);
    expect(staying).toContain(`${root}/mnt`);
    expect(staying).not.toContain(`${root}/mnt/elsewhere.txt`);
    await repo.close();
  });
});
