import { RepoError } from "../errors.js";
import type { Repository } from "../repository.js";

/** What one backup produced (§7). */
export interface Snapshot {
  time: string;
  host: string;
  paths: string[];
  tags: string[];
  tree: string;
  parent?: string;
  source?: { kind: string; name: string };
  program: string;
  summary: SnapshotSummary;
  meta?: Record<string, unknown>;
}

export interface SnapshotSummary {
  files: number;
  dirs: number;
  bytes: number;
  addedBytes: number;
  durationMs: number;
}

export interface SnapshotEntry extends Snapshot {
  id: string;
}

export interface SnapshotFilter {
  host?: string;
  tags?: string[];
  paths?: string[];
  source?: string;
}

function validate(json: unknown, id: string): Snapshot {
  const s = json as Partial<Snapshot>;
  if (typeof s?.tree !== "string" || typeof s.time !== "string" || !Array.isArray(s.paths)) {
    throw new RepoError("data_corrupt", `snapshot ${id.slice(0, 12)} is malformed`);
  }
  return { tags: [], host: "", program: "", ...s } as Snapshot;
}

export async function saveSnapshot(repo: Repository, snapshot: Snapshot): Promise<string> {
  return repo.saveJson("snapshots", snapshot);
}

export async function loadSnapshot(repo: Repository, id: string): Promise<SnapshotEntry> {
  return { id, ...validate(await repo.loadJson("snapshots", id), id) };
}

export function matchesFilter(s: Snapshot, f: SnapshotFilter): boolean {
  if (f.host !== undefined && s.host !== f.host) return false;
  if (f.source !== undefined && s.source?.name !== f.source) return false;
  if (f.tags?.length && !f.tags.every((t) => s.tags.includes(t))) return false;
  if (f.paths?.length && !f.paths.every((p) => s.paths.includes(p))) return false;
  return true;
}

/** All snapshots matching the filter, oldest first. Unreadable snapshots are reported through `onError`. */
export async function listSnapshots(
  repo: Repository,
  filter: SnapshotFilter = {},
  onError?: (id: string, err: unknown) => void,
): Promise<SnapshotEntry[]> {
  const out: SnapshotEntry[] = [];
  for await (const f of repo.backend.list("snapshots")) {
    try {
      const s = await loadSnapshot(repo, f.name);
      if (matchesFilter(s, filter)) out.push(s);
    } catch (err) {
      if (!onError) throw err;
      onError(f.name, err);
    }
  }
  return out.sort((a, b) => a.time.localeCompare(b.time) || a.id.localeCompare(b.id));
}

/**
 * Names of the snapshot files present now. Readers that also read indexes
 * list snapshots first: a snapshot's index is written before the snapshot
 * (§8), so every snapshot in this list has its index in place already,
 * while one listed after reading the indexes might not.
 */
export async function snapshotNames(repo: Repository): Promise<Set<string>> {
  const names = new Set<string>();
  for await (const f of repo.backend.list("snapshots")) names.add(f.name);
  return names;
}

/** Resolves "latest", a full id or a unique prefix of at least 4 hex characters. */
export async function findSnapshot(
  repo: Repository,
  ref: string,
  filter: SnapshotFilter = {},
): Promise<SnapshotEntry> {
  if (ref === "latest") {
    const all = await listSnapshots(repo, filter);
    const last = all.at(-1);
    if (!last)
      throw new RepoError("snapshot_not_found", "the repository has no snapshot matching the filter");
    return last;
  }
  if (!/^[0-9a-f]{4,64}$/.test(ref)) {
    throw new RepoError("invalid_argument", `"${ref}" is not a snapshot id (hex) or "latest"`);
  }
  const matches: string[] = [];
  for await (const f of repo.backend.list("snapshots")) if (f.name.startsWith(ref)) matches.push(f.name);
  if (matches.length === 0) throw new RepoError("snapshot_not_found", `no snapshot ${ref}`);
  if (matches.length > 1)
    throw new RepoError("invalid_argument", `snapshot id prefix ${ref} is ambiguous; give more characters`);
  return loadSnapshot(repo, matches[0] as string);
}
