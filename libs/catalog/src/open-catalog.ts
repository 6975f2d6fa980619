import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import { applyMigrations } from "./apply-migrations.js";
import { type CatalogTarget, type Provider, parseCatalogUrl } from "./catalog-url.js";
import { PrismaClient as PostgresClient } from "./gen/postgres/client.js";
import { PrismaClient as SqliteClient } from "./gen/sqlite/client.js";

/**
 * The catalog's Prisma client. Typed as the SQLite client: both are generated
 * from the same models, but the two generated types are not mutually assignable.
 */
export type Catalog = SqliteClient;

export interface OpenCatalogOptions {
  /** `file:<path>` (SQLite) or `postgresql://…[?schema=<name>]` (PostgreSQL). */
  readonly url: string;
  /** Receives a line per migration applied at start-up. */
  readonly log?: (line: string) => void;
}

export interface OpenedCatalog {
  readonly db: Catalog;
  readonly provider: Provider;
  /** Applied by this call, in order; empty when the catalog was up to date. */
  readonly appliedMigrations: readonly string[];
  close(): Promise<void>;
}

/**
 * Opens the catalog, first applying any pending migrations (safe when several
 * controller replicas start at once: one migrates, the others wait and find
 * nothing to do). Refuses a catalog this build cannot safely use; see errors.ts.
 */
export async function openCatalog(options: OpenCatalogOptions): Promise<OpenedCatalog> {
  const target = parseCatalogUrl(options.url);
  const appliedMigrations = await applyMigrations(target, options.log ?? (() => {}));
  const db = createClient(target);
  return { db, provider: target.provider, appliedMigrations, close: () => db.$disconnect() };
}

function createClient(target: CatalogTarget): Catalog {
  if (target.provider === "sqlite") {
    return new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: target.file }) });
  }
  const adapter = new PrismaPg({ connectionString: target.url }, { schema: target.schema });
  return new PostgresClient({ adapter }) as unknown as Catalog;
}
