import type { BackupOptions } from "@pwdr/repo";
import type { SourceBackupContext, SourceBackupResult } from "../source.js";
import { checkPaths } from "../tree/check-paths.js";

/** Layout of what this source stores; bump when the snapshot or meta changes shape. */
export const FILES_FORMAT_VERSION = "files/1";

/** Application data: scan data, logs, user data. */
export interface FileTreeBackupOptions {
  /** Absolute files and directories, e.g. /data and /var/log/piwardrive. */
  paths: string[];
  /** Paths that may be absent on some hosts; skipped and listed instead of failing. */
  optionalPaths?: string[];
  /** Globs: without "/" a name at any depth ("*.tmp"), with "/" an absolute path ("/data/cache/**"). */
  exclude?: string[];
  /** When given, only files matching one of these globs are stored (directories are always walked). */
  include?: string[];
  /** Stay on the file system of each backed-up path (skip mounts below it). */
  oneFileSystem?: boolean;
}

/** What `backupFileTree` puts in `SourceBackupResult.meta`. */
export interface FileTreeBackupRecord {
  paths: string[];
  missingOptional: string[];
  exclude: string[];
  include: string[];
}

/**
 * The archiver applies include/exclude while it walks, so they are options
 * of the Backup the caller starts for this source, not of the walk here.
 */
export function fileTreeBackupOptions(
  options: FileTreeBackupOptions,
): Pick<BackupOptions, "exclude" | "include" | "oneFileSystem"> {
  return {
    exclude: options.exclude ?? [],
    include: options.include ?? [],
    oneFileSystem: options.oneFileSystem ?? false,
  };
}

/**
 * Backs up application data trees into a Backup started with
 * `fileTreeBackupOptions(options)`. Unchanged files are skipped against the
 * Backup's parent snapshot; unreadable files become Backup warnings.
 */
export async function backupFileTree(
  ctx: SourceBackupContext,
  options: FileTreeBackupOptions,
): Promise<SourceBackupResult> {
  const { present, missingOptional } = await checkPaths(
    options.paths,
    options.optionalPaths ?? [],
    "application data paths",
  );
  for (const path of present) {
    ctx.onProgress?.({ phase: "backup", bytesDone: 0, item: path });
    await ctx.backup.addPath(path);
  }
  ctx.onProgress?.({ phase: "done", bytesDone: 0 });
  const record: FileTreeBackupRecord = {
    paths: present,
    missingOptional,
    exclude: options.exclude ?? [],
    include: options.include ?? [],
  };
  return { kind: "files", version: FILES_FORMAT_VERSION, counts: {}, meta: { ...record } };
}
