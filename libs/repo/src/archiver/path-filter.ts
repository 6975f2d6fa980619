import picomatch from "picomatch";
import { RepoError } from "../errors.js";

/**
 * Include/exclude rules. A pattern without "/" matches a name at any depth
 * ("*.tmp", "cache"); a pattern with "/" matches the absolute path
 * ("/data/scans/**"). An excluded directory is not descended into.
 */
export class PathFilter {
  readonly #exclude: ((path: string) => boolean)[];
  readonly #include: ((path: string) => boolean)[];

  constructor(exclude: readonly string[] = [], include: readonly string[] = []) {
    this.#exclude = exclude.map((p) => compile(p, "exclude"));
    this.#include = include.map((p) => compile(p, "include"));
  }

  /** Whether any exclude pattern is set: without one, no path needs to be turned into text for it. */
  get hasExcludes(): boolean {
    return this.#exclude.length > 0;
  }

  get hasIncludes(): boolean {
    return this.#include.length > 0;
  }

  excludes(path: string): boolean {
    return this.#exclude.some((m) => m(path));
  }

  /** Files must match an include pattern when there are any; directories are always walked. */
  includesFile(path: string): boolean {
    return this.#include.length === 0 || this.#include.some((m) => m(path));
  }
}

function compile(pattern: string, kind: string): (path: string) => boolean {
  if (!pattern.trim()) throw new RepoError("invalid_argument", `empty ${kind} pattern`);
  const anchored = pattern.includes("/");
  const match = picomatch(pattern, { dot: true, basename: !anchored });
  return (path) => match(path);
}
