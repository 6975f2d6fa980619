import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";

/** Cheap scrypt parameters: tests open repositories often. */
const FAST_KDF = { N: 1024, r: 8, p: 1 };
const PASSWORD = "pg source test repository";

/**
 * A fresh local repository. Small chunks so that a dedup test needs only
 * megabytes of table data to show day-to-day reuse.
 */
export async function pgTempRepository(): Promise<Repository> {
  const root = `${makeTempDir("pwdr-pg-repo-")}/repo`;
  return Repository.init(new LocalBackend(root), PASSWORD, {
    kdf: FAST_KDF,
    params: {
      chunker: { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024, gearSeed: "00".repeat(32) },
    },
  });
}
