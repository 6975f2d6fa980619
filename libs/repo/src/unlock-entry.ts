/**
 * The part of the library a program needs before a repository is open: the
 * errors, the local backend and unlocking. It loads in a few milliseconds,
 * against ~50 ms for the whole library (`@pwdr/repo`).
 */
export { LocalBackend } from "./backend/local-backend.js";
export { isRepoError, RepoError } from "./errors.js";
export { startUnlock, type UnlockedRepository, unlockRepository } from "./unlock.js";
