import type { SourceRestoreContext } from "../source.js";
import { recordedPaths, restoreTree } from "../tree/restore-tree.js";
import type { ConfigRestoreOptions, ConfigRestoreResult } from "./config-types.js";

/**
 * Restores a configuration snapshot to the original paths (targetPrefix ""
 * or "/"), under a prefix such as /mnt/newroot, or remapped per path; whole
 * or a subset of its paths. Owners come back when running as root (the
 * restorer's default); modes always do.
 */
export async function restoreConfig(
  ctx: SourceRestoreContext,
  options: ConfigRestoreOptions = {},
): Promise<ConfigRestoreResult> {
  return restoreTree(ctx, recordedPaths, options);
}
