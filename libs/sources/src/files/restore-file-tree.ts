import type { SourceRestoreContext } from "../source.js";
import {
  recordedPaths,
  restoreTree,
  type TreeRestoreOptions,
  type TreeRestoreResult,
} from "../tree/restore-tree.js";

/**
 * Restores application data whole, a sub-path or single files, to the
 * original place, under a prefix, or remapped per path (e.g. /data to
 * /srv/data on a replacement host).
 */
export function restoreFileTree(
  ctx: SourceRestoreContext,
  options: TreeRestoreOptions = {},
): Promise<TreeRestoreResult> {
  return restoreTree(ctx, recordedPaths, options);
}
