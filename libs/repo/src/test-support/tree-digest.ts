import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import { join, relative } from "node:path";

/** path (relative) → "type size sha256|target": enough to compare a restore with its source. */
export async function treeDigest(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const s = await lstat(path);
      const rel = relative(root, path);
      if (s.isDirectory()) {
        out.set(rel, "dir");
        await walk(path);
      } else if (s.isSymbolicLink()) out.set(rel, `symlink ${await readlink(path)}`);
      else if (s.isFile())
        out.set(
          rel,
          `file ${s.size} ${createHash("sha256")
            .update(await readFile(path))
            .digest("hex")}`,
        );
    }
  }
  await walk(root);
  return out;
}
