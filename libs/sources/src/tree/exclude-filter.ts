import { basename } from "node:path";

/** Decides whether a path is excluded: by absolute path (with its subtree) or by a base-name glob. */
export type ExcludeFilter = (absPath: string) => boolean;

export function excludeFilter(patterns: readonly string[]): ExcludeFilter {
  const prefixes = patterns.filter((p) => p.startsWith("/")).map((p) => p.replace(/\/+$/, ""));
  const globs = patterns.filter((p) => !p.startsWith("/")).map(globToRegExp);
  return (absPath) =>
    prefixes.some((p) => absPath === p || absPath.startsWith(`${p}/`)) ||
    globs.some((g) => g.test(basename(absPath)));
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${escaped.replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
}
