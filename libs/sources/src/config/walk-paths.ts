import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { RepoError } from "@pwdr/repo";
import type { ExcludeFilter } from "../tree/exclude-filter.js";

/** What to hand to the archiver and which regular files to scan for certificates. */
export interface WalkPlan {
  /** Roots for `backup.addPath`: whole subtrees where nothing inside is excluded. */
  roots: string[];
  files: { path: string; size: number }[];
}

/**
 * The archiver's exclude list is fixed when the Backup starts, so a source
 * with its own excludes adds the largest subtrees that contain no excluded
 * entry; parent directories keep their metadata (addPath records it).
 */
export async function walkPaths(paths: readonly string[], excluded: ExcludeFilter): Promise<WalkPlan> {
  const plan: WalkPlan = { roots: [], files: [] };
  for (const path of paths) {
    if (excluded(path)) continue;
    const clean = await walkEntry(path, await lstatOrFail(path), excluded, plan.files);
    plan.roots.push(...(clean ? [path] : await cleanChildren(path, excluded)));
  }
  return plan;
}

/** Walks one entry, collecting regular files; true when nothing below it is excluded. */
async function walkEntry(
  path: string,
  stats: Stats,
  excluded: ExcludeFilter,
  files: WalkPlan["files"],
): Promise<boolean> {
  if (stats.isFile()) files.push({ path, size: stats.size });
  if (!stats.isDirectory()) return true;
  let clean = true;
  for (const name of await readDir(path)) {
    const child = join(path, name);
    if (excluded(child)) {
      clean = false;
      continue;
    }
    if (!(await walkEntry(child, await lstatOrFail(child), excluded, files))) clean = false;
  }
  return clean;
}

/** The addPath roots under a directory that holds excluded entries. */
async function cleanChildren(dir: string, excluded: ExcludeFilter): Promise<string[]> {
  const roots: string[] = [];
  for (const name of await readDir(dir)) {
    const child = join(dir, name);
    if (excluded(child)) continue;
    const stats = await lstatOrFail(child);
    const clean = await walkEntry(child, stats, excluded, []);
    roots.push(...(clean ? [child] : await cleanChildren(child, excluded)));
  }
  return roots;
}

async function readDir(path: string): Promise<string[]> {
  try {
    return (await readdir(path)).sort();
  } catch (err) {
    throw fsError(path, err);
  }
}

async function lstatOrFail(path: string): Promise<Stats> {
  try {
    return await lstat(path);
  } catch (err) {
    throw fsError(path, err);
  }
}

/** Only the errno code goes into the message: it names the path and never echoes contents. */
function fsError(path: string, err: unknown): RepoError {
  const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
  return new RepoError("source_failed", `cannot read ${path} for the configuration backup (${code})`, {
    cause: err,
  });
}
