import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SampledFile } from "../recovery-point/file-sample.js";
import type { SourceOutcome } from "../recovery-point/recovery-point.js";
import type { DrillAssertion } from "./drill-result.js";

/**
 * A configuration or data tree restored below `prefix`: as many files as
 * the snapshot holds, and each file of the recorded sample with the size
 * and sha256 it had on disk at backup time. Results say whether digests
 * match, never the digests.
 */
export async function checkFileTree(outcome: SourceOutcome, prefix: string): Promise<DrillAssertion[]> {
  const roots = "paths" in outcome.definition ? outcome.definition.paths : [];
  const files = await countFiles(roots.map((p) => join(prefix, p)));
  const expected = outcome.files ?? 0;
  const count: DrillAssertion = {
    check: "files restored",
    expected,
    actual: files,
    passed: files === expected,
  };
  const sample = await Promise.all((outcome.sample ?? []).map((f) => checkSampled(f, prefix)));
  return [count, ...sample];
}

async function checkSampled(file: SampledFile, prefix: string): Promise<DrillAssertion> {
  const check = `content of ${file.path}`;
  const expected = `${file.size} bytes, sha256 as recorded`;
  const found = await digestOf(join(prefix, file.path));
  if (!found) return { check, expected, actual: "missing", passed: false };
  const same = found.sha256 === file.sha256;
  const actual = `${found.size} bytes, sha256 ${same ? "as recorded" : "differs"}`;
  return { check, expected, actual, passed: same && found.size === file.size };
}

async function digestOf(path: string): Promise<{ size: number; sha256: string } | undefined> {
  try {
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of createReadStream(path)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { size, sha256: hash.digest("hex") };
  } catch {
    return undefined;
  }
}

/** Regular files at or below each path (a missing path holds none). */
async function countFiles(paths: string[]): Promise<number> {
  let count = 0;
  for (const path of paths) {
    const stats = await lstat(path).catch(() => undefined);
    if (stats?.isFile()) count++;
    else if (stats?.isDirectory()) {
      const entries = await readdir(path, { recursive: true, withFileTypes: true });
      count += entries.filter((e) => e.isFile()).length;
    }
  }
  return count;
}
