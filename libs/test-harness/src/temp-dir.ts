import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resourceRegistry } from "./resource-registry.js";

export interface TempDir {
  path: string;
  /** Registry id, for removing it together with the server that lives in it. */
  resourceId: number;
}

/** A fresh directory under the OS temp dir, removed by stopAll(), at exit, or by the watchdog. */
export function makeTempDir(prefix: string): string {
  return createTempDir(prefix).path;
}

export function createTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `pwdr-${prefix}-`));
  return { path, resourceId: resourceRegistry().add({ kind: "directory", path }) };
}
