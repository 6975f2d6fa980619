import { copyFile, mkdir, mkdtemp, open, readdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Repository, SnapshotEntry } from "@pwdr/repo";
import type { RestorePlan } from "./restore-plan.js";
import { extractFile } from "./snapshot-read.js";

/** Files Redis may load or leave behind: RDBs, old single-file AOFs, its temp files. */
const STRAY = [/\.rdb$/, /\.aof$/, /^temp-.*\.rdb$/, /\.tmp$/];
export const STAGING_PREFIX = ".pwdr-restore-";
export const ROLLBACK_PREFIX = ".pwdr-rollback-";

/**
 * Extracts everything the plan needs into a staging directory inside the
 * data dir while Redis still runs (shorter downtime; same file system, so
 * installing is a rename).
 */
export async function stageFiles(
  repo: Repository,
  snapshot: SnapshotEntry,
  plan: RestorePlan,
  dataDir: string,
): Promise<string> {
  const staging = await mkdtemp(join(dataDir, STAGING_PREFIX));
  for (const file of plan.files) {
    const target = join(staging, file.to);
    await mkdir(dirname(target), { recursive: true });
    if ("snapshotPath" in file.from) await extractFile(repo, snapshot, file.from.snapshotPath, target);
    else if ("text" in file.from) await writeSynced(target, file.from.text);
    else await copyFile(join(staging, file.from.copyOf), target);
  }
  return staging;
}

async function writeSynced(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Files set aside before installing, so a failed restore can put them back. */
export interface SetAside {
  dir: string;
  names: string[];
}

/**
 * Moves what Redis could load instead of the restored data (RDBs, AOFs, its
 * temp files) into a directory beside them, once Redis is stopped.
 */
export async function setAsideStrays(dataDir: string, appenddirname: string): Promise<SetAside> {
  const dir = await mkdtemp(join(dataDir, ROLLBACK_PREFIX));
  const names: string[] = [];
  for (const entry of await readdir(dataDir, { withFileTypes: true })) {
    const isAofDir = entry.name === appenddirname;
    if (!isAofDir && !(entry.isFile() && STRAY.some((p) => p.test(entry.name)))) continue;
    await rename(join(dataDir, entry.name), join(dir, entry.name));
    names.push(entry.name);
  }
  await syncDir(dataDir);
  return { dir, names };
}

/** Undoes `installStaged` and `setAsideStrays`: the data dir holds what it held before. */
export async function putBack(aside: SetAside, plan: RestorePlan, dataDir: string, appenddirname: string) {
  for (const file of plan.files) await rm(join(dataDir, file.to), { force: true });
  await rm(join(dataDir, appenddirname), { recursive: true, force: true });
  for (const name of aside.names) await rename(join(aside.dir, name), join(dataDir, name));
  await syncDir(dataDir);
  await rm(aside.dir, { recursive: true, force: true });
}

/** Moves the staged files into the data dir, then syncs the directories so the renames survive a crash. */
export async function installStaged(staging: string, plan: RestorePlan, dataDir: string): Promise<void> {
  const dirs = new Set([dataDir]);
  for (const file of plan.files) {
    const target = join(dataDir, file.to);
    await mkdir(dirname(target), { recursive: true });
    await rename(join(staging, file.to), target);
    dirs.add(dirname(target));
  }
  for (const dir of dirs) await syncDir(dir);
}

async function syncDir(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
