/** Base class of every error the catalog raises itself; `code` is stable, the message is for humans. */
export class CatalogError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UnsupportedUrlError extends CatalogError {
  constructor(url: string, hint: string) {
    // Only the scheme: a PostgreSQL URL may carry a password.
    super("CATALOG_URL_UNSUPPORTED", `Unsupported catalog URL scheme "${url.split(":")[0]}:": ${hint}.`);
  }
}

export class MigrationsNotFoundError extends CatalogError {
  constructor(readonly path: string) {
    super(
      "CATALOG_MIGRATIONS_NOT_FOUND",
      `Catalog migrations not found at ${path}: the @pwdr/catalog package is incomplete; reinstall it.`,
    );
  }
}

export class EditedMigrationError extends CatalogError {
  constructor(readonly migration: string) {
    super(
      "CATALOG_MIGRATION_EDITED",
      `Migration ${migration} was applied to this catalog with different SQL than this build ships. ` +
        "Developers: restore the original migration.sql and put the change in a new migration " +
        "(npm run migrate:new -- --name <name> in libs/catalog). Operators: run the build that migrated this catalog.",
    );
  }
}

export class UnknownMigrationError extends CatalogError {
  constructor(readonly migrations: readonly string[]) {
    super(
      "CATALOG_NEWER_THAN_BUILD",
      `The catalog has migrations this build does not know (${migrations.join(", ")}): it was upgraded ` +
        "by a newer controller. Run that version or newer; starting an older one could damage the catalog.",
    );
  }
}

export class IncompleteMigrationError extends CatalogError {
  constructor(readonly migration: string) {
    super(
      "CATALOG_MIGRATION_INCOMPLETE",
      `Migration ${migration} started but never finished on this catalog (recorded in _prisma_migrations). ` +
        "Check what it changed, then record the outcome with `prisma migrate resolve --applied|--rolled-back " +
        `${migration}\` (offline: npm run migrate:resolve in libs/catalog).`,
    );
  }
}

export class MigrationFailedError extends CatalogError {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(
      "CATALOG_MIGRATION_FAILED",
      `Migration ${migration} failed; the upgrade was rolled back and the catalog is unchanged ` +
        `(the previous controller version can still use it): ${String(cause)}`,
      { cause },
    );
  }
}

export class NonEmptyDatabaseError extends CatalogError {
  constructor(readonly tables: readonly string[]) {
    super(
      "CATALOG_DATABASE_NOT_EMPTY",
      `The database has tables but no migration history (${tables.slice(0, 5).join(", ")}): it is not a ` +
        "PWDR catalog. Point the controller at an empty database or an existing catalog.",
    );
  }
}

export class MigrationLockTimeoutError extends CatalogError {
  constructor(seconds: number, remedy: string) {
    super(
      "CATALOG_MIGRATION_LOCK_TIMEOUT",
      `Waited ${seconds} s for the catalog's migration lock held by another process. ` +
        `If no other controller is starting: ${remedy}.`,
    );
  }
}
