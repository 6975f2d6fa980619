import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Who created each lock, so an append-only client may remove its own locks
 * (release, refresh) but nobody else's. Lock contents are encrypted, so the
 * server cannot read the owner from the lock itself; the record lives next to
 * it as `locks/.owner-<name>` (readers ignore names that are not 64 hex
 * characters) and survives a server restart.
 */
export class LockOwners {
  constructor(private readonly root: string) {}

  #file(lockName: string): string {
    return join(this.root, "locks", `.owner-${lockName}`);
  }

  async record(lockName: string, owner: string): Promise<void> {
    await writeFile(this.#file(lockName), JSON.stringify({ owner }), { mode: 0o600 });
  }

  async ownerOf(lockName: string): Promise<string | undefined> {
    try {
      const { owner } = JSON.parse(await readFile(this.#file(lockName), "utf8")) as { owner?: unknown };
      return typeof owner === "string" ? owner : undefined;
    } catch {
      return undefined;
    }
  }

  async forget(lockName: string): Promise<void> {
    await rm(this.#file(lockName), { force: true });
  }
}
