import { RepoError } from "@pwdr/repo";
import { isRepositoryName } from "../protocol/routes.js";
import { RepositoryFiles } from "./repository-files.js";

/** Repository name → its directory: a fixed map, or a lookup (the catalog) for hosts added while running. */
export type RepositoryDirectories =
  | Readonly<Record<string, string>>
  | ((name: string) => string | undefined | Promise<string | undefined>);

/** Opens each served repository once, on first use, and keeps it (its pack file handles) until close. */
export class ServedRepositories {
  readonly #open = new Map<string, RepositoryFiles>();
  readonly #lookup: (name: string) => string | undefined | Promise<string | undefined>;

  constructor(repositories: RepositoryDirectories) {
    if (typeof repositories === "function") {
      this.#lookup = repositories;
      return;
    }
    for (const name of Object.keys(repositories)) {
      if (!isRepositoryName(name)) {
        throw new RepoError(
          "invalid_argument",
          `repository name "${name}" must be 1–63 lowercase letters, digits, "-" or "_", starting with a letter or digit`,
        );
      }
    }
    this.#lookup = (name) => (Object.hasOwn(repositories, name) ? repositories[name] : undefined);
  }

  async get(name: string): Promise<RepositoryFiles | undefined> {
    const open = this.#open.get(name);
    if (open) return open;
    const root = await this.#lookup(name);
    if (root === undefined) return undefined;
    const files = this.#open.get(name) ?? new RepositoryFiles(name, root);
    this.#open.set(name, files);
    return files;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#open.values()].map((r) => r.close()));
    this.#open.clear();
  }
}
