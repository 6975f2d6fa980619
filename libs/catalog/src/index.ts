// @pwdr/catalog: the controller's catalog in Prisma (SQLite embedded, PostgreSQL in
// production). openCatalog() applies pending migrations at start-up and returns the client.
export { type CatalogTarget, type Provider, parseCatalogUrl } from "./catalog-url.js";
export {
  CatalogError,
  EditedMigrationError,
  IncompleteMigrationError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  MigrationsNotFoundError,
  NonEmptyDatabaseError,
  UnknownMigrationError,
  UnsupportedUrlError,
} from "./errors.js";
export type {
  AgentCertificate,
  ApiToken,
  AuditEvent,
  DrRun,
  DrStep,
  EnrollmentToken,
  Host,
  Job,
  JobRun,
  Policy,
  RecoveryPoint,
  Repository,
  Snapshot,
} from "./gen/sqlite/client.js";
export { Prisma } from "./gen/sqlite/client.js";
export { type Catalog, type OpenCatalogOptions, type OpenedCatalog, openCatalog } from "./open-catalog.js";
export { isUniqueViolation } from "./unique-violation.js";
export * from "./value-sets.js";
