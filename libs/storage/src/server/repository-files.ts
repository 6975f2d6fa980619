import { createHash } from "node:crypto";
import {
  type FileHandle,
  type FileInfo,
  type FileType,
  isRepoError,
  LocalBackend,
  RepoError,
} from "@pwdr/repo";
import { denied } from "./access.js";
import { LockOwners } from "./lock-owners.js";
import type { Body } from "./read-body.js";

/**
 * One served repository: a LocalBackend plus the append-only rules that need
 * the stored state (existing content, lock owners). Error messages name the
 * repository, not the server's directories.
 */
export class RepositoryFiles {
  readonly #backend: LocalBackend;
  readonly #owners: LockOwners;

  constructor(
    readonly name: string,
    root: string,
  ) {
    this.#backend = new LocalBackend(root);
    this.#owners = new LockOwners(this.#backend.root);
  }

  create(): Promise<void> {
    return this.#hidePaths(() => this.#backend.create());
  }

  load(handle: FileHandle, range?: { offset: number; length: number }): Promise<Buffer> {
    return this.#hidePaths(() => this.#backend.load(handle, range));
  }

  stat(handle: FileHandle): Promise<FileInfo | undefined> {
    return this.#hidePaths(() => this.#backend.stat(handle));
  }

  list(type: FileType): Promise<FileInfo[]> {
    return this.#hidePaths(async () => {
      const files: FileInfo[] = [];
      for await (const file of this.#backend.list(type)) files.push(file);
      return files;
    });
  }

  save(handle: FileHandle, body: Body): Promise<void> {
    return this.#hidePaths(() => this.#backend.save(handle, body.parts));
  }

  /**
   * Append-only save: the name must be the SHA-256 of the content (as the
   * format names every file but config and keys), so nobody can park other
   * bytes under a name a later writer needs; an existing file is never
   * rewritten, and the same content again is a no-op, as the contract allows.
   */
  async appendSave(handle: FileHandle, body: Body, owner: string): Promise<void> {
    if (body.sha256 !== handle.name) {
      throw denied(`append-only access stores ${handle.type} files only under the SHA-256 of their content`);
    }
    if (await this.stat(handle)) {
      const existing = createHash("sha256")
        .update(await this.load(handle))
        .digest("hex");
      if (existing === body.sha256) return;
      throw denied(
        `${handle.type}/${handle.name} already exists with different content; append-only access cannot overwrite it`,
      );
    }
    if (handle.type === "locks") await this.#owners.record(handle.name, owner);
    await this.save(handle, body);
  }

  async remove(handle: FileHandle): Promise<void> {
    await this.#hidePaths(() => this.#backend.remove(handle));
    if (handle.type === "locks") await this.#owners.forget(handle.name);
  }

  /** Append-only remove: only a lock this client created; a missing file is not an error (contract). */
  async appendRemove(handle: FileHandle, owner: string): Promise<void> {
    if (handle.type !== "locks") {
      throw denied(
        `append-only access cannot remove ${handle.type} files; prune and forget run on the controller`,
      );
    }
    if (!(await this.stat(handle))) return;
    if ((await this.#owners.ownerOf(handle.name)) !== owner) {
      throw denied(
        `locks/${handle.name} belongs to another client; stale locks are removed on the controller`,
      );
    }
    await this.remove(handle);
  }

  close(): Promise<void> {
    return this.#backend.close();
  }

  async #hidePaths<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (!isRepoError(err)) throw err;
      const message = err.message
        .replaceAll(this.#backend.location, `repository ${this.name}`)
        .replaceAll(this.#backend.root, `repository ${this.name}`);
      throw new RepoError(err.code, message);
    }
  }
}
