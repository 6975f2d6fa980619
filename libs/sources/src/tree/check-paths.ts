import { lstat } from "node:fs/promises";
import { isAbsolute, normalize } from "node:path";
import { RepoError } from "@pwdr/repo";

/**
 * The paths to back up: required ones must all exist (all missing ones are
 * named at once). `what` names them in messages ("configuration paths").
 */
export async function checkPaths(
  paths: readonly string[],
  optional: readonly string[],
  what: string,
): Promise<{ present: string[]; missingOptional: string[] }> {
  const all = [...new Set([...paths, ...optional])];
  const relative = all.filter((p) => !isAbsolute(p));
  if (relative.length > 0) {
    throw new RepoError("invalid_argument", `${what} must be absolute: ${relative.join(", ")}`);
  }
  if (all.length === 0) throw new RepoError("invalid_argument", `no ${what} to back up`);
  const exists = await Promise.all(all.map(pathExists));
  const missing = all.filter((_, i) => !exists[i]);
  const missingRequired = missing.filter((p) => !optional.includes(p));
  if (missingRequired.length > 0) {
    throw new RepoError(
      "invalid_argument",
      `${what} do not exist: ${missingRequired.join(", ")} (mark them optional if a host may lack them)`,
    );
  }
  return { present: outermost(all.filter((_, i) => exists[i])), missingOptional: missing };
}

/** Drops paths inside another given path: the archiver would store their subtree twice. */
function outermost(paths: readonly string[]): string[] {
  const clean = [...new Set(paths.map((p) => normalize(p).replace(/(.)\/+$/, "$1")))];
  return clean.filter(
    (p, i) => !clean.some((q, j) => j !== i && (q === "/" ? p !== "/" : p.startsWith(`${q}/`))),
  );
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new RepoError(
      "source_failed",
      `cannot check ${path}: ${(err as NodeJS.ErrnoException).code ?? "unknown error"}`,
      { cause: err },
    );
  }
}
