// Repository storage for a fleet: the controller serves repositories to
// agents over HTTP/2 with mutual TLS, append-only per host (restic's
// rest-server --append-only), and agents use them through RemoteBackend.
// Glossary: access = append (back up) | admin (prune, forget, init, keys).
export { RemoteBackend, type RemoteBackendOptions } from "./client/remote-backend.js";
export type { Access, AccessRequest, Authorize } from "./server/access.js";
export type { RepositoryDirectories } from "./server/served-repositories.js";
export {
  type RunningStorageServer,
  type StorageServerEvent,
  type StorageServerOptions,
  startStorageServer,
} from "./server/storage-server.js";
