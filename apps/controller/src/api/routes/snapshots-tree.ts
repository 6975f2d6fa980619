// Opens the controller's host repositories to list a snapshot's files. Opening
// one derives its key with scrypt (slow on purpose), so an opened repository
// is kept for a few minutes; each listing loads only the indexes added since.
import { type ListEntry, LocalBackend, listFiles, loadSnapshot, Repository } from "@pwdr/repo";

/** What the listing needs of the controller's host repositories (HostRepositories). */
export interface HostRepositoryAccess {
  directoryOf(name: string): string;
  /** The repository's password (unsealed with the master key); never leaves the controller. */
  ensure(name: string): Promise<string>;
}

export interface TreeEntry {
  name: string;
  path: string;
  type: string;
  size: number;
  mode: number;
  mtime: string;
  target?: string;
}

export interface TreeListing {
  path: string;
  entries: TreeEntry[];
  truncated: boolean;
}

const IDLE_CLOSE_MS = 2 * 60_000;
/** A directory with more entries than this is cut: the browser is for finding things, not bulk export. */
export const MAX_ENTRIES = 2_000;

interface Opened {
  repo: Promise<Repository>;
  usedAt: number;
}

export class SnapshotTrees {
  readonly #open = new Map<string, Opened>();

  constructor(private readonly repositories: HostRepositoryAccess) {}

  /** One directory of a snapshot in the host repository `name`, sorted directories first. */
  async list(name: string, snapshotId: string, path: string): Promise<TreeListing> {
    this.#closeIdle();
    const repo = await this.#repository(name);
    const snapshot = await loadSnapshot(repo, snapshotId);
    const entries: TreeEntry[] = [];
    let truncated = false;
    for await (const entry of listFiles(repo, snapshot, { path })) {
      if (entries.length >= MAX_ENTRIES) {
        truncated = true;
        break;
      }
      entries.push(toEntry(entry));
    }
    entries.sort(
      (a, b) => Number(b.type === "dir") - Number(a.type === "dir") || a.name.localeCompare(b.name),
    );
    return { path: normalized(path), entries, truncated };
  }

  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map(async (o) => (await o.repo.catch(() => undefined))?.close()));
  }

  #repository(name: string): Promise<Repository> {
    const cached = this.#open.get(name);
    if (cached) {
      cached.usedAt = Date.now();
      return cached.repo;
    }
    const repo = this.repositories
      .ensure(name)
      .then((password) => Repository.open(new LocalBackend(this.repositories.directoryOf(name)), password));
    // A failed open is not cached: the next request tries again.
    repo.catch(() => this.#open.delete(name));
    this.#open.set(name, { repo, usedAt: Date.now() });
    return repo;
  }

  #closeIdle(): void {
    const now = Date.now();
    for (const [name, opened] of this.#open) {
      if (now - opened.usedAt < IDLE_CLOSE_MS) continue;
      this.#open.delete(name);
      opened.repo.then((r) => r.close()).catch(() => {});
    }
  }
}

function toEntry(e: ListEntry): TreeEntry {
  return {
    name: e.path.slice(e.path.lastIndexOf("/") + 1),
    path: e.path,
    type: e.type,
    size: e.size,
    mode: e.mode,
    mtime: e.mtime.toISOString(),
    ...(e.target !== undefined ? { target: e.target } : {}),
  };
}

function normalized(path: string): string {
  const parts = path.split("/").filter(Boolean);
  return `/${parts.join("/")}`;
}
