import { createHash } from "node:crypto";
import type { DeltaDictionary } from "../compression/codec.js";
import { open } from "../crypto/envelope.js";
import { isRepoError, RepoError } from "../errors.js";
import { openBlobEnvelope } from "../pack/open-blob-envelope.js";
import { decodeEntries, HEADER_AAD, type PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import type { CheckState } from "./check-state.js";

/**
 * Reads each selected pack in full: its name must be the SHA-256 of its
 * bytes, its header must decrypt and agree with the index, and every blob the
 * index places in it must decrypt and hash to its id (§3, §7).
 */
export async function readData(repo: Repository, state: CheckState, packs: readonly string[]): Promise<void> {
  let done = 0;
  for (const pack of packs) {
    const entries = state.packs.get(pack) ?? [];
    // A pack already known to be missing was reported by the structure check.
    if (state.packSizes.has(pack)) await readPack(repo, state, pack, entries);
    state.onProgress({ phase: "read-data", done: ++done, total: packs.length });
  }
}

async function readPack(
  repo: Repository,
  state: CheckState,
  pack: string,
  entries: PackEntry[],
): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await repo.backend.load({ type: "data", name: pack });
  } catch (err) {
    if (isRepoError(err, "blob_missing")) return; // deleted while we checked: prune ignores stale locks
    throw err;
  }
  state.report.packsRead++;
  state.report.bytesRead += bytes.length;
  const problems: string[] = [];
  if (createHash("sha256").update(bytes).digest("hex") !== pack) {
    problems.push("its content does not match its name");
  }
  const headerProblem = compareHeader(repo, pack, bytes, entries);
  if (headerProblem) problems.push(headerProblem);
  const bad: string[] = [];
  for (const e of entries) if (!(await blobIntact(repo, state, pack, bytes, e))) bad.push(e.id);
  state.report.blobsChecked += entries.length;
  if (bad.length) problems.push(`${bad.length} of its ${entries.length} blobs are damaged`);
  if (problems.length === 0) return;
  state.markBad(pack, bad);
  state.error({
    kind: "pack_damaged",
    file: `data/${pack}`,
    message: `pack ${pack.slice(0, 12)}: ${problems.join("; ")}`,
    blobs: bad,
  });
}

/**
 * Whether the blob decrypts and hashes to its id. A delta-coded blob (§5.1)
 * is decoded against its bases; when one cannot be read, the blob's own
 * envelope is only authenticated: the base is reported on its own, and what
 * depends on it is found lost through CheckState.isLost.
 */
async function blobIntact(
  repo: Repository,
  state: CheckState,
  pack: string,
  bytes: Buffer,
  e: PackEntry,
): Promise<boolean> {
  if (e.offset + e.length > bytes.length) return false;
  const envelope = bytes.subarray(e.offset, e.offset + e.length);
  const what = `blob ${e.id.slice(0, 12)} in pack ${pack.slice(0, 12)}`;
  try {
    const dictionary = e.bases === undefined ? undefined : await readDictionary(state, e.bases, e.id);
    if (e.bases !== undefined && !dictionary) open(repo.key.encKey, envelope, Buffer.from(e.id, "hex"), what);
    else openBlobEnvelope(repo, e, envelope, what, dictionary);
    return true;
  } catch (err) {
    if (isRepoError(err, "data_corrupt")) return false;
    throw err;
  }
}

async function readDictionary(
  state: CheckState,
  bases: readonly string[],
  of: string,
): Promise<DeltaDictionary | undefined> {
  try {
    return await state.blobs.loadDictionary(bases, of);
  } catch (err) {
    if (isRepoError(err, "data_corrupt") || isRepoError(err, "blob_missing")) return undefined;
    throw err;
  }
}

/** Why the pack's own header does not match what the index says about it, if it does not. */
function compareHeader(
  repo: Repository,
  pack: string,
  bytes: Buffer,
  indexed: PackEntry[],
): string | undefined {
  let header: PackEntry[];
  try {
    header = parseHeader(repo, pack, bytes);
  } catch (err) {
    if (!isRepoError(err, "data_corrupt")) throw err;
    return `its header cannot be read (${err.message})`;
  }
  const key = (e: PackEntry) =>
    `${e.type}:${e.id}:${e.offset}:${e.length}:${e.rawLength}:${e.bases?.join() ?? ""}`;
  const inHeader = new Set(header.map(key));
  const inIndex = new Set(indexed.map(key));
  const differ =
    [...inIndex].filter((k) => !inHeader.has(k)).length + [...inHeader].filter((k) => !inIndex.has(k)).length;
  return differ ? `its header and the index disagree on ${differ} blob entries` : undefined;
}

function parseHeader(repo: Repository, pack: string, bytes: Buffer): PackEntry[] {
  const what = `pack ${pack.slice(0, 12)} header`;
  const length = bytes.length >= 4 ? bytes.readUInt32LE(bytes.length - 4) : Number.POSITIVE_INFINITY;
  if (length + 4 > bytes.length) throw new RepoError("data_corrupt", `${what} has an impossible length`);
  const plain = open(
    repo.key.encKey,
    bytes.subarray(bytes.length - 4 - length, bytes.length - 4),
    HEADER_AAD,
    what,
  );
  let json: unknown;
  try {
    json = JSON.parse(plain.toString("utf8"));
  } catch {
    throw new RepoError("data_corrupt", `${what} is not valid JSON`);
  }
  return decodeEntries(json, what);
}
