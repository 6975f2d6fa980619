import type { PeerIdentity } from "@pwdr/protocol";
import { type FileHandle, RepoError } from "@pwdr/repo";

/**
 * `read`: what a disaster-recovery replacement needs to restore another
 * host's backups: read everything, add and remove only its own locks (a
 * restore holds a shared lock so a prune cannot remove what it reads).
 * `append`: what a backing-up agent needs and nothing that could destroy a
 * backup (restic rest-server's --append-only): read everything, add packs,
 * indexes, snapshots and locks, remove only its own locks. `admin`:
 * everything, for prune, forget, key changes and init on the controller.
 */
export type Access = "read" | "append" | "admin";

export interface AccessRequest {
  identity: PeerIdentity;
  repository: string;
}

/** Decides which access a verified client has to a repository; undefined refuses it. */
export type Authorize = (request: AccessRequest) => Access | undefined | Promise<Access | undefined>;

const APPENDABLE = new Set(["data", "index", "snapshots", "locks"]);

export function denied(message: string): RepoError {
  return new RepoError("access_denied", message);
}

/**
 * Config and keys stay read-only for agents: a new key is a new password
 * that opens every backup, and a rewritten config can lock everyone out.
 */
export function checkAppendSave(handle: FileHandle): void {
  if (!APPENDABLE.has(handle.type)) {
    throw denied(
      `append-only access cannot write ${handle.type} files; init and key changes run on the controller`,
    );
  }
}

/** Read-only access writes nothing but its own locks. */
export function checkReadSave(handle: FileHandle): void {
  if (handle.type !== "locks") {
    throw denied(`read-only access cannot write ${handle.type} files; it may only hold locks while it reads`);
  }
}
