/**
 * Prisma's own WebAssembly schema engine (@prisma/schema-engine-wasm) driven through
 * the Prisma 7 driver adapters: what `prisma migrate` does with the native engine,
 * which cannot be downloaded offline. Development tooling (scripts/migrate.ts and
 * the drift test); the controller applies migrations with src/apply-migrations.ts.
 * Works around engine/adapter bugs of the pinned versions; each is explained below.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { PrismaBetterSqlite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from "@prisma/driver-adapter-utils";
import type { MigrationList, SchemaContainer, SchemaEngine } from "@prisma/schema-engine-wasm";
import * as glue from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { parseCatalogUrl } from "../src/catalog-url.js";
import { readMigrations } from "../src/migration-files.js";

/** No tables or enums are managed outside Prisma. */
export const filters = { externalTables: [] as string[], externalEnums: [] as string[] };

/** Every *.prisma file of a schema folder (symlinks to prisma/shared included), sorted. */
export function readSchemaFiles(schemaDir: string): SchemaContainer[] {
  return readdirSync(schemaDir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".prisma") && !file.startsWith("migrations"))
    .sort()
    .map((file) => path.join(schemaDir, file))
    .map((file) => ({ path: file, content: readFileSync(file, "utf8") }));
}

/** A migrations folder in the engine's input format (an absent folder is an empty history). */
export function migrationList(migrationsDir: string): MigrationList {
  const lockPath = path.join(migrationsDir, "migration_lock.toml");
  const migrations = existsSync(migrationsDir) ? readMigrations(migrationsDir) : [];
  return {
    baseDir: migrationsDir,
    lockfile: {
      path: "migration_lock.toml",
      content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null,
    },
    shadowDbInitScript: "",
    migrationDirectories: migrations.map((migration) => ({
      path: migration.name,
      migrationFile: { path: "migration.sql", content: { tag: "ok", value: migration.sql } },
    })),
  };
}

export interface EngineOptions {
  /** The database the engine works on (file: or postgresql://). */
  readonly url: string;
  readonly schemaFiles: readonly SchemaContainer[];
  /** A disposable PostgreSQL database to use as the shadow database instead of a temporary one. */
  readonly shadowUrl?: string | undefined;
}

/** Runs `work` with an engine, then frees it and closes its connections. */
export async function withSchemaEngine<T>(
  options: EngineOptions,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const { SchemaEngine } = loadEngineModule();
  const connections: SqlDriverAdapter[] = [];
  const factory = trackConnections(adapterFactory(options.url, options.shadowUrl), connections);
  const engine = await SchemaEngine.new(
    { datamodels: options.schemaFiles.map((file) => [file.path, file.content]) },
    (line: string) => {
      if (process.env.DEBUG_SCHEMA_ENGINE) console.error("[schema-engine]", line);
    },
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await work(engine);
  } finally {
    engine.free();
    await Promise.all(connections.map((connection) => connection.dispose()));
  }
}

// free() leaves the engine's connections open, and on SQLite the engine sets
// locking_mode=EXCLUSIVE: the database stays locked until they are closed.
function trackConnections(
  factory: SqlMigrationAwareDriverAdapterFactory,
  connections: SqlDriverAdapter[],
): SqlMigrationAwareDriverAdapterFactory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const connection = await connect();
    connections.push(connection);
    return connection;
  };
  return factory;
}

export interface DriftReport {
  readonly inSync: boolean;
  /** The engine's human-readable summary of what the migrations lack. */
  readonly summary: string;
}

/**
 * The CI guard "schema changed without a migration": replays the migrations on a
 * shadow database and diffs the result with the schema. (`prisma migrate diff`
 * cannot do this offline: under the stub engine it exits 0 and prints nothing.)
 */
export async function checkDrift(
  engine: SchemaEngine,
  migrationsDir: string,
  schemaFiles: readonly SchemaContainer[],
): Promise<DriftReport> {
  const result = await engine.diff({
    from: { tag: "migrations", ...migrationList(migrationsDir) },
    to: { tag: "schemaDatamodel", files: [...schemaFiles] },
    script: false,
    exitCode: true,
    filters,
  });
  return { inSync: result.exitCode === 0, summary: result.stdout ?? "" };
}

// The WebAssembly global, which the workspace's libs (es2023, no DOM) do not declare.
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (
    module: object,
    imports: Record<string, unknown>,
  ) => { exports: { __wbindgen_start(): void } };
}
const { WebAssembly: wasmApi } = globalThis as unknown as { WebAssembly: WasmApi };

let engineModule: typeof glue | undefined;

// The package's own entry imports the .wasm file as an ES module, which Node 20
// cannot; instantiate it by hand with the JS glue as its import object. Once:
// the glue module holds a single instance, which every engine shares.
function loadEngineModule(): typeof glue {
  engineModule ??= instantiateEngine();
  return engineModule;
}

function instantiateEngine(): typeof glue {
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve("@prisma/schema-engine-wasm/schema_engine_bg"));
  const wasm = new wasmApi.Module(readFileSync(path.join(dir, "schema_engine_bg.wasm")));
  const instance = new wasmApi.Instance(wasm, { "./schema_engine_bg.js": glue });
  glue.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  return glue;
}

function adapterFactory(url: string, shadowUrl: string | undefined): SqlMigrationAwareDriverAdapterFactory {
  const target = parseCatalogUrl(url);
  // Shadow database for SQLite: in memory (the adapter's default).
  if (target.provider === "sqlite") {
    return multiStatementShadow(new PrismaBetterSqlite3({ url: target.file }));
  }
  const factory = new PrismaPg(pgConfig(url), { schema: target.schema });
  factory.connectToShadowDb = shadowUrl
    ? () => connectExternalShadow(shadowUrl, target.schema)
    : () => connectTemporaryShadow(url, target.schema);
  return multiStatementShadow(factory);
}

// The wasm engine does not empty an external shadow database (the native one
// does), so clear it on every connect.
async function connectExternalShadow(shadowUrl: string, schema: string) {
  const shadow = await new PrismaPg(pgConfig(shadowUrl), { schema }).connect();
  await shadow.executeScript(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}";`);
  return shadow;
}

// Like the adapter's own connectToShadowDb (a temporary database, needs CREATEDB),
// but closes the shadow pool *before* DROP DATABASE: adapter-pg 7.10 drops first
// and fails with "database is being accessed by other users".
async function connectTemporaryShadow(url: string, schema: string) {
  const admin = await new PrismaPg(pgConfig(url), { schema }).connect();
  const name = `prisma_migrate_shadow_db_${randomUUID()}`;
  await admin.executeScript(`CREATE DATABASE "${name}"`);
  const shadow = await new PrismaPg({ ...pgConfig(url), database: name }, { schema }).connect();
  await shadow.executeScript(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  const dispose = shadow.dispose.bind(shadow);
  shadow.dispose = async () => {
    await dispose();
    await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`);
    await admin.dispose();
  };
  return shadow;
}

// Discrete fields, not `connectionString`: a shadow database is opened by
// overriding `database`, which node-postgres would let a connection string beat.
function pgConfig(url: string): pg.PoolConfig {
  const u = new URL(url);
  const schema = u.searchParams.get("schema");
  return {
    Client: CatalogTextClient,
    host: decodeURIComponent(u.hostname),
    port: u.port ? Number(u.port) : 5432,
    // Absent parts fall back to node-postgres defaults (PGUSER, PGDATABASE, …).
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.pathname.length > 1 ? { database: decodeURIComponent(u.pathname.slice(1)) } : {}),
    // The engine looks for its tables in `?schema=` while migration SQL is
    // unqualified, so make that schema the search_path.
    ...(schema ? { options: `-c search_path="${schema}"` } : {}),
  };
}

// The engine replays each migration.sql on the shadow database through
// executeRaw(); better-sqlite3 (prepare) and pg (extended protocol) accept one
// statement per executeRaw, so route parameterless scripts to executeScript().
function multiStatementShadow(
  factory: SqlMigrationAwareDriverAdapterFactory,
): SqlMigrationAwareDriverAdapterFactory {
  const connectToShadowDb = factory.connectToShadowDb.bind(factory);
  factory.connectToShadowDb = async () => {
    const adapter = await connectToShadowDb();
    const executeRaw = adapter.executeRaw.bind(adapter);
    adapter.executeRaw = async (query) => {
      if (query.args.length > 0) return executeRaw(query);
      await adapter.executeScript(query.sql);
      return 0;
    };
    return adapter;
  };
  return factory;
}

// adapter-pg 7.10 rejects internal column types that the engine's catalog
// queries return ("Column type 'char' could not be deserialized", e.g.
// pg_constraint.contype). Report them as text, which is how the engine reads them.
const CATALOG_TEXT_OIDS = new Set([
  18 /* "char" */, 22 /* int2vector */, 24 /* regproc */, 28 /* xid */, 30 /* oidvector */,
  194 /* pg_node_tree */, 1033 /* aclitem */, 2205 /* regclass */,
]);
const TEXT_OID = 25;

function retypeCatalogColumns<T>(result: T): T {
  const fields = (result as { fields?: { dataTypeID: number }[] } | undefined)?.fields ?? [];
  for (const field of fields) {
    if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
  }
  return result;
}

type AnyQuery = (...args: unknown[]) => unknown;

class CatalogTextClient extends pg.Client {
  // pg.Pool calls query(text, values, callback); the adapter awaits the promise form.
  override query(...args: unknown[]): never {
    const query = super.query as AnyQuery;
    const callback = args.at(-1);
    if (typeof callback === "function") {
      args[args.length - 1] = (error: unknown, result: unknown) =>
        callback(error, error ? result : retypeCatalogColumns(result));
      return query.apply(this, args) as never;
    }
    const out = query.apply(this, args);
    return (out instanceof Promise ? out.then(retypeCatalogColumns) : out) as never;
  }
}
