import { isAbsolute, normalize } from "node:path";
import { findSnapshot, RepoError, type RestoreProgress, restoreSnapshot, type Snapshot } from "@pwdr/repo";
import type { SourceProgress, SourceRestoreContext } from "../source.js";
import type { ConfigRestoreOptions, ConfigRestoreResult } from "./config-types.js";

/**
 * Restores a configuration snapshot to the original paths (targetPrefix ""
 * or "/") or under a prefix such as /mnt/newroot, whole or a subset of its
 * paths. Owners come back when running as root (the restorer's default);
 * modes always do.
 */
export async function restoreConfig(
  ctx: SourceRestoreContext,
  options: ConfigRestoreOptions = {},
): Promise<ConfigRestoreResult> {
  const target = targetOf(options.targetPrefix ?? "");
  const snapshot = await findSnapshot(ctx.repo, ctx.snapshotId);
  const paths = selectPaths(backedUpPaths(snapshot), options.paths);
  const result = await restoreSnapshot(ctx.repo, snapshot, {
    target,
    include: paths,
    dryRun: options.dryRun ?? false,
    onProgress: (p) => ctx.onProgress?.(sourceProgress(p)),
  });
  return { files: result.files, dirs: result.dirs, bytes: result.bytes, paths, issues: result.errors };
}

function targetOf(prefix: string): string {
  if (prefix === "" || prefix === "/") return "/";
  if (!isAbsolute(prefix)) {
    throw new RepoError("invalid_argument", `targetPrefix must be an absolute directory, got ${prefix}`);
  }
  return normalize(prefix);
}

/**
 * The paths the user asked to back up, from the meta the caller stored
 * (ConfigBackupRecord.paths). The snapshot's own `paths` differ when excludes
 * split a directory into the subtrees around the excluded entries.
 */
function backedUpPaths(snapshot: Snapshot): string[] {
  const recorded = snapshot.meta?.paths;
  const valid =
    Array.isArray(recorded) && recorded.length > 0 && recorded.every((p) => typeof p === "string");
  return valid ? (recorded as string[]) : snapshot.paths;
}

/** The requested paths, each inside a path the snapshot backed up; all of them when none are given. */
function selectPaths(backedUp: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (!wanted || wanted.length === 0) return [...backedUp];
  const outside = wanted.filter((w) => !isAbsolute(w) || !backedUp.some((b) => isWithin(normalize(w), b)));
  if (outside.length > 0) {
    throw new RepoError(
      "invalid_argument",
      `not in the configuration snapshot: ${outside.join(", ")} (it holds ${backedUp.join(", ")})`,
    );
  }
  return wanted.map((w) => normalize(w));
}

function isWithin(path: string, root: string): boolean {
  return path === root || root === "/" || path.startsWith(`${root}/`);
}

function sourceProgress(p: RestoreProgress): SourceProgress {
  const progress: SourceProgress = { phase: p.phase, bytesDone: p.bytes, bytesTotal: p.totalBytes };
  if (p.currentPath !== undefined) progress.item = p.currentPath;
  return progress;
}
