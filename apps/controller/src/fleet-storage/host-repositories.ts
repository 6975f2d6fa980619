import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Catalog, isUniqueViolation, type Repository as RepositoryRow } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { type KdfParams, LocalBackend, Repository } from "@pwdr/repo";
import type { MasterKey } from "./master-key.js";
import { sealPassword, unsealPassword } from "./sealed-password.js";
import { writeSealedPasswordFile } from "./sealed-password-file.js";

/** Catalog `Repository.kind` of a repository the controller stores and serves itself. */
export const CONTROLLER_REPOSITORY_KIND = "controller";

export interface HostRepositoriesOptions {
  db: Catalog;
  dataDir: string;
  masterKey: MasterKey;
  log: Logger;
  /** scrypt cost of the repository key files; the repository default when omitted (tests lower it). */
  kdf?: KdfParams;
}

/**
 * One repository per host in `<dataDir>/repos/<host id>`, named by the host
 * id on the storage server and in the catalog, with a random password the
 * catalog keeps sealed under the controller's master key. A copy of the sealed
 * password sits in `<dataDir>/secrets/repositories/` so that a lost catalog
 * can be rebuilt from the repositories.
 */
export class HostRepositories {
  readonly root: string;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(private readonly options: HostRepositoriesOptions) {
    this.root = join(options.dataDir, "repos");
  }

  directoryOf(hostId: string): string {
    return join(this.root, hostId);
  }

  /** The directory the storage server serves under `name`, if the catalog holds such a host repository. */
  async served(name: string): Promise<string | undefined> {
    const row = await this.options.db.repository.findUnique({ where: { name } });
    return row?.kind === CONTROLLER_REPOSITORY_KIND ? this.directoryOf(name) : undefined;
  }

  /**
   * The host's repository password, creating the catalog row and the
   * repository first if needed. The row is written before `init`, so a crash
   * between them leaves a row whose repository the next call initialises
   * with the same password (never a repository whose password was lost).
   */
  ensure(hostId: string): Promise<string> {
    const running = this.#pending.get(hostId);
    if (running) return running;
    const created = this.#ensure(hostId).finally(() => this.#pending.delete(hostId));
    this.#pending.set(hostId, created);
    return created;
  }

  async #ensure(hostId: string): Promise<string> {
    const row = await this.#rowOf(hostId);
    const password = unsealPassword(this.options.masterKey, row.name, {
      ciphertext: row.passwordCiphertext,
      keyId: row.passwordKeyId,
    });
    const backend = new LocalBackend(this.directoryOf(hostId));
    if (!(await backend.stat({ type: "config", name: "config" }))) {
      const repo = await Repository.init(
        backend,
        password,
        this.options.kdf ? { kdf: this.options.kdf } : {},
      );
      await repo.close();
      this.options.log.info("host repository created", { hostId, repository: hostId });
    }
    return password;
  }

  /**
   * Writes the sealed copy of every host repository's password that lacks
   * one (rows from before the copies existed, or a crash between the row and
   * its file); run at start-up.
   */
  async writeSealedCopies(): Promise<number> {
    const rows = await this.options.db.repository.findMany({ where: { kind: CONTROLLER_REPOSITORY_KIND } });
    for (const row of rows) await this.#writeCopy(row);
    return rows.length;
  }

  #writeCopy(row: RepositoryRow): Promise<void> {
    return writeSealedPasswordFile(this.options.dataDir, {
      repository: row.name,
      ciphertext: row.passwordCiphertext,
      keyId: row.passwordKeyId,
    });
  }

  async #rowOf(hostId: string): Promise<RepositoryRow> {
    const existing = await this.options.db.repository.findUnique({ where: { name: hostId } });
    if (existing) return existing;
    const created = await this.#createRow(hostId);
    // Before `init`: a repository never exists without the copy of its password.
    await this.#writeCopy(created);
    return created;
  }

  async #createRow(hostId: string): Promise<RepositoryRow> {
    const { db, masterKey } = this.options;
    const sealed = sealPassword(masterKey, hostId, randomBytes(32).toString("base64url"));
    try {
      return await db.repository.create({
        data: {
          name: hostId,
          kind: CONTROLLER_REPOSITORY_KIND,
          location: hostId,
          passwordCiphertext: sealed.ciphertext,
          passwordKeyId: sealed.keyId,
        },
      });
    } catch (err) {
      // Another controller replica created it first: use theirs.
      if (isUniqueViolation(err)) return db.repository.findUniqueOrThrow({ where: { name: hostId } });
      throw err;
    }
  }
}
