import { basename, dirname, isAbsolute, normalize } from "node:path";
import {
  findNode,
  findSnapshot,
  type OverwriteMode,
  RepoError,
  type Repository,
  type RestoreIssue,
  type RestoreProgress,
  type RestoreResult,
  restoreSnapshot,
  type Snapshot,
  type SnapshotEntry,
  splitPath,
} from "@pwdr/repo";
import type { SourceProgress, SourceRestoreContext } from "../source.js";

/** Where a file-tree snapshot goes: original places, under a prefix, or remapped per path. */
export interface TreeRestoreOptions {
  /** "" or "/": back to the original paths; otherwise a directory such as /mnt/newroot. */
  targetPrefix?: string;
  /** Restore only these absolute paths (files or directories inside the snapshot). */
  paths?: string[];
  /**
   * Backed-up path → new place, e.g. {"/data": "/srv/data"}: everything at or
   * below a key goes below its value instead (the longest matching key
   * wins); `targetPrefix` applies to the rest.
   */
  pathMap?: Record<string, string>;
  overwrite?: OverwriteMode;
  dryRun?: boolean;
}

export interface TreeRestoreResult {
  files: number;
  dirs: number;
  bytes: number;
  /** The snapshot paths that were restored. */
  paths: string[];
  /** Where each restored snapshot path went on disk. */
  placements: { path: string; target: string }[];
  /** Owners or modes the file system refused (e.g. chown when not root). */
  issues: RestoreIssue[];
}

/**
 * Restores a file-tree snapshot (configuration or application data), whole
 * or in part. `backedUpPaths` are the paths the user asked to back up (the
 * snapshot's own paths can be finer-grained when excludes split a directory).
 */
export async function restoreTree(
  ctx: SourceRestoreContext,
  backedUpPaths: (snapshot: Snapshot) => string[],
  options: TreeRestoreOptions,
): Promise<TreeRestoreResult> {
  const prefix = targetOf(options.targetPrefix ?? "");
  const pathMap = pathMapEntries(options.pathMap ?? {});
  const snapshot = await findSnapshot(ctx.repo, ctx.snapshotId);
  const paths = selectPaths(backedUpPaths(snapshot), options.paths);
  if (options.paths?.length) await checkPresent(ctx.repo, snapshot, paths);
  const result: TreeRestoreResult = { files: 0, dirs: 0, bytes: 0, paths, placements: [], issues: [] };
  const unmapped: string[] = [];
  for (const path of paths) {
    const mapped = mapPath(path, pathMap);
    if (mapped === undefined) unmapped.push(path);
    else await restorePart(ctx, snapshot, result, path, mapped, options);
  }
  if (unmapped.length > 0) {
    const done = await restoreSnapshot(ctx.repo, snapshot, {
      ...common(ctx, options),
      target: prefix,
      include: unmapped,
    });
    add(result, done);
    for (const path of unmapped) result.placements.push({ path, target: prefixed(prefix, path) });
  }
  return result;
}

/** One path restored to a new place: a directory's content into it, anything else under its own name. */
async function restorePart(
  ctx: SourceRestoreContext,
  snapshot: SnapshotEntry,
  result: TreeRestoreResult,
  path: string,
  mapped: string,
  options: TreeRestoreOptions,
): Promise<void> {
  const node = await findNode(ctx.repo, snapshot.tree, splitPath(path));
  const isDir = node?.type === "dir";
  if (!isDir && basename(mapped) !== basename(path)) {
    throw new RepoError(
      "invalid_argument",
      `the path map renames the file ${path} to ${mapped}; map the directory that holds it instead`,
    );
  }
  const done = await restoreSnapshot(ctx.repo, snapshot, {
    ...common(ctx, options),
    target: isDir ? mapped : dirname(mapped),
    include: [path],
    stripPrefix: true,
  });
  add(result, done);
  result.placements.push({ path, target: mapped });
}

function common(ctx: SourceRestoreContext, options: TreeRestoreOptions) {
  return {
    dryRun: options.dryRun ?? false,
    ...(options.overwrite ? { overwrite: options.overwrite } : {}),
    onProgress: (p: RestoreProgress) => ctx.onProgress?.(sourceProgress(p)),
  };
}

function add(result: TreeRestoreResult, done: RestoreResult): void {
  result.files += done.files;
  result.dirs += done.dirs;
  result.bytes += done.bytes;
  result.issues.push(...done.errors);
}

function targetOf(prefix: string): string {
  if (prefix === "" || prefix === "/") return "/";
  if (!isAbsolute(prefix)) {
    throw new RepoError("invalid_argument", `targetPrefix must be an absolute directory, got ${prefix}`);
  }
  return normalize(prefix);
}

function prefixed(prefix: string, path: string): string {
  return prefix === "/" ? path : `${prefix}${path}`;
}

export function pathMapEntries(map: Record<string, string>): [string, string][] {
  const entries = Object.entries(map);
  const bad = entries.filter(([from, to]) => !isAbsolute(from) || !isAbsolute(to));
  if (bad.length > 0) {
    const list = bad.map(([from, to]) => `${from} → ${to}`).join(", ");
    throw new RepoError("invalid_argument", `path map entries must be absolute on both sides: ${list}`);
  }
  return entries
    .map(([from, to]): [string, string] => [trimSlash(normalize(from)), trimSlash(normalize(to))])
    .sort((a, b) => b[0].length - a[0].length);
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** The new place of `path` under the longest matching map key, if any. */
export function mapPath(path: string, map: readonly [string, string][]): string | undefined {
  for (const [from, to] of map) {
    if (path === from) return to;
    const root = from === "/" ? "/" : `${from}/`;
    if (path.startsWith(root)) return normalize(`${to}/${path.slice(root.length)}`);
  }
  return undefined;
}

/** The requested paths, each inside a path the snapshot backed up; all of them when none are given. */
function selectPaths(backedUp: readonly string[], wanted: readonly string[] | undefined): string[] {
  if (!wanted || wanted.length === 0) return [...backedUp];
  // Refused rather than normalised away: "/data/../etc" names another place than it seems to.
  const dotted = wanted.filter((w) => w.split("/").some((c) => c === "." || c === ".."));
  if (dotted.length > 0) {
    throw new RepoError("invalid_argument", `use paths without "." or ".." components: ${dotted.join(", ")}`);
  }
  const outside = wanted.filter((w) => !isAbsolute(w) || !backedUp.some((b) => isWithin(normalize(w), b)));
  if (outside.length > 0) {
    throw new RepoError(
      "invalid_argument",
      `not in the snapshot: ${outside.join(", ")} (it holds ${backedUp.join(", ")})`,
    );
  }
  return wanted.map((w) => trimSlash(normalize(w)));
}

/**
 * Every requested path must be in the snapshot, checked before anything is
 * written: a path that matches nothing is an error naming it, not an empty
 * restore, and a later missing path cannot leave the earlier ones restored.
 */
async function checkPresent(repo: Repository, snapshot: SnapshotEntry, paths: readonly string[]) {
  const missing: string[] = [];
  for (const path of paths) {
    if (!(await findNode(repo, snapshot.tree, splitPath(path)))) missing.push(path);
  }
  if (missing.length > 0) {
    throw new RepoError(
      "path_not_found",
      `not in snapshot ${snapshot.id.slice(0, 12)}: ${missing.join(", ")}`,
    );
  }
}

function isWithin(path: string, root: string): boolean {
  return path === root || root === "/" || path.startsWith(`${root}/`);
}

function sourceProgress(p: RestoreProgress): SourceProgress {
  const progress: SourceProgress = { phase: p.phase, bytesDone: p.bytes, bytesTotal: p.totalBytes };
  if (p.currentPath !== undefined) progress.item = p.currentPath;
  return progress;
}

/**
 * The paths the user asked to back up, from the meta the caller stored
 * (`meta.paths`); the snapshot's own paths otherwise.
 */
export function recordedPaths(snapshot: Snapshot): string[] {
  const recorded = snapshot.meta?.paths;
  const valid =
    Array.isArray(recorded) && recorded.length > 0 && recorded.every((p) => typeof p === "string");
  return valid ? (recorded as string[]) : snapshot.paths;
}
