import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { type ListEntry, listFiles, type Repository, type Snapshot } from "@pwdr/repo";

/** A file of a configuration or data snapshot with the digest of its content when it was backed up. */
export interface SampledFile {
  path: string;
  size: number;
  sha256: string;
}

export interface SampleLimits {
  files: number;
  /** Bytes read at most for the whole sample: a backup must stay cheap. */
  bytes: number;
}

export const DEFAULT_SAMPLE_LIMITS: SampleLimits = { files: 32, bytes: 64 * 1024 * 1024 };

/** More candidates than needed, so files that changed since the archiver read them can be passed over. */
const CANDIDATES_PER_FILE = 4;

/**
 * Picks up to `limits.files` regular files of a finished snapshot by a
 * stable hash of their path and digests them from disk, so a restore
 * drill can check restored content against something the restore itself
 * did not read. A file is taken only while its size and mtime on disk are
 * those the snapshot stored: the digest then describes the stored version.
 * Only world-readable files are sampled: a digest of a private key or an
 * .env file would let anyone holding the record test guesses of it.
 */
export async function sampleSnapshotFiles(
  repo: Repository,
  snapshot: Snapshot,
  limits: SampleLimits = DEFAULT_SAMPLE_LIMITS,
): Promise<SampledFile[]> {
  const candidates = await pickCandidates(repo, snapshot, limits.files * CANDIDATES_PER_FILE);
  const sample: SampledFile[] = [];
  let budget = limits.bytes;
  for (const entry of candidates) {
    if (sample.length === limits.files) break;
    if (entry.size > budget) continue;
    const digest = await digestIfUnchanged(entry);
    if (digest === undefined) continue;
    budget -= entry.size;
    sample.push({ path: entry.path, size: entry.size, sha256: digest });
  }
  return sample.sort((a, b) => a.path.localeCompare(b.path));
}

async function pickCandidates(repo: Repository, snapshot: Snapshot, count: number): Promise<ListEntry[]> {
  const ranked: { rank: string; entry: ListEntry }[] = [];
  for await (const entry of listFiles(repo, snapshot, { recursive: true })) {
    if (!isSampleable(entry)) continue;
    const rank = createHash("sha256").update(entry.pathBytes).digest("hex");
    if (ranked.length === count && rank >= (ranked.at(-1)?.rank ?? "")) continue;
    ranked.push({ rank, entry });
    ranked.sort((a, b) => (a.rank < b.rank ? -1 : 1));
    if (ranked.length > count) ranked.pop();
  }
  return ranked.map((r) => r.entry);
}

function isSampleable(entry: ListEntry): boolean {
  const readableByAll = (entry.mode & 0o004) !== 0;
  // A name that is not UTF-8 cannot be recorded as a string path.
  return entry.type === "file" && readableByAll && Buffer.from(entry.path).equals(entry.pathBytes);
}

/** The sha256 of the file on disk, when it is still the version the snapshot stored (before and after reading). */
async function digestIfUnchanged(entry: ListEntry): Promise<string | undefined> {
  try {
    if (!(await matchesStored(entry))) return undefined;
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(entry.path)) hash.update(chunk as Buffer);
    return (await matchesStored(entry)) ? hash.digest("hex") : undefined;
  } catch {
    // Gone or unreadable since the archiver read it: another candidate takes its place.
    return undefined;
  }
}

async function matchesStored(entry: ListEntry): Promise<boolean> {
  const stats = await lstat(entry.path, { bigint: true });
  return stats.isFile() && stats.size === BigInt(entry.size) && stats.mtimeNs.toString() === entry.mtimeNs;
}
