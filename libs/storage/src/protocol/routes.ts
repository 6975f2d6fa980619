import type { FileHandle, FileType } from "@pwdr/repo";
import { RepoError } from "@pwdr/repo";

/**
 * The storage protocol's paths, shared by server and client so the two
 * cannot drift: `/v1/repos/<repository>` (create), `…/<type>/` (list) and
 * `…/<type>/<name>` (one file; `config/config` for the config).
 */
const PREFIX = "/v1/repos/";
const REPOSITORY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const FILE_NAME = /^[0-9a-f]{64}$/;
const FILE_TYPES: readonly FileType[] = ["config", "keys", "data", "index", "snapshots", "locks"];

export type Route =
  | { kind: "repository"; repository: string }
  | { kind: "list"; repository: string; type: FileType }
  | { kind: "file"; repository: string; handle: FileHandle };

export function isRepositoryName(name: string): boolean {
  return REPOSITORY_NAME.test(name);
}

function invalid(what: string): never {
  throw new RepoError("invalid_argument", `${what} is not a storage path (see docs/storage-server.md)`);
}

function fileType(type: string | undefined, path: string): FileType {
  const found = FILE_TYPES.find((t) => t === type);
  return found ?? invalid(`"${path.slice(0, 200)}"`);
}

function isFileName(type: FileType, name: string): boolean {
  return type === "config" ? name === "config" : FILE_NAME.test(name);
}

/** Parses a request path; anything but the exact shapes above (`..`, `%2f`, queries) is invalid_argument. */
export function parseRoute(path: string): Route {
  const shown = `"${path.slice(0, 200)}"`;
  if (!path.startsWith(PREFIX)) invalid(shown);
  const [repository = "", type, name, ...rest] = path.slice(PREFIX.length).split("/");
  if (!isRepositoryName(repository) || rest.length > 0) invalid(shown);
  if (type === undefined) return { kind: "repository", repository };
  const checked = fileType(type, path);
  if (name === undefined) invalid(shown);
  if (name === "") return { kind: "list", repository, type: checked };
  if (!isFileName(checked, name)) invalid(shown);
  return { kind: "file", repository, handle: { type: checked, name } };
}

export function repositoryPath(repository: string): string {
  return `${PREFIX}${repository}`;
}

export function listPath(repository: string, type: FileType): string {
  return `${PREFIX}${repository}/${type}/`;
}

export function filePath(repository: string, handle: FileHandle): string {
  return `${PREFIX}${repository}/${handle.type}/${handle.name}`;
}
