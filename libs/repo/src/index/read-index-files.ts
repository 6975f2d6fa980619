import { isRepoError, type RepoError } from "../errors.js";
import type { PackEntry } from "../pack/pack-format.js";
import type { Repository } from "../repository.js";
import { decodeIndexFile, type IndexFile } from "./index-file.js";

export interface ReadIndexOptions {
  /** Receives unreadable index files; without it the first one throws. */
  onError?: (name: string, err: RepoError) => void;
  /** Index files decoded earlier: files are immutable, so these are not read again. */
  known?: ReadonlyMap<string, IndexFile>;
  onFile?: (done: number, total: number) => void;
}

/** Every index file in the backend, decoded, superseded ones included (maintenance must see them all). */
export async function readIndexFiles(
  repo: Pick<Repository, "backend" | "loadJson">,
  options: ReadIndexOptions = {},
): Promise<Map<string, IndexFile>> {
  const names: string[] = [];
  for await (const f of repo.backend.list("index")) names.push(f.name);
  const files = new Map<string, IndexFile>();
  for (const [i, name] of names.entries()) {
    try {
      files.set(
        name,
        options.known?.get(name) ??
          decodeIndexFile(await repo.loadJson("index", name), `index/${name.slice(0, 12)}`),
      );
    } catch (err) {
      if (!options.onError || !isRepoError(err, "data_corrupt")) throw err;
      options.onError(name, err);
    }
    options.onFile?.(i + 1, names.length);
  }
  return files;
}

/** The packs readers use: those of index files no other index file supersedes (as Repository.loadIndex). */
export function currentPacks(files: ReadonlyMap<string, IndexFile>): Map<string, PackEntry[]> {
  const superseded = new Set([...files.values()].flatMap((f) => f.supersedes));
  const packs = new Map<string, PackEntry[]>();
  for (const [name, file] of files) {
    if (superseded.has(name)) continue;
    for (const p of file.packs) if (!packs.has(p.id)) packs.set(p.id, p.entries);
  }
  return packs;
}
