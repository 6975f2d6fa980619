import { UnsupportedUrlError } from "./errors.js";

export type Provider = "sqlite" | "postgres";

export type CatalogTarget =
  | { readonly provider: "sqlite"; readonly url: string; readonly file: string }
  | { readonly provider: "postgres"; readonly url: string; readonly schema: string };

/**
 * Picks the provider from the URL scheme: `file:<path>` is SQLite (a relative path
 * resolves against the working directory, as in Prisma), `postgres://` and
 * `postgresql://` are PostgreSQL, with Prisma's `?schema=` (default `public`).
 */
export function parseCatalogUrl(url: string): CatalogTarget {
  if (url.startsWith("file:")) return sqliteTarget(url);
  if (/^postgres(ql)?:\/\//.test(url)) {
    return { provider: "postgres", url, schema: new URL(url).searchParams.get("schema") ?? "public" };
  }
  throw new UnsupportedUrlError(url, "use file:<path> (SQLite) or postgresql://… (PostgreSQL)");
}

function sqliteTarget(url: string): CatalogTarget {
  // Query parameters (e.g. Prisma's ?connection_limit=) mean nothing to
  // better-sqlite3, which would make them part of the file name.
  const file = url.slice("file:".length).split("?")[0] ?? "";
  // Each connection to an in-memory database gets its own empty database, so
  // the migrations would land in one and the queries run against another.
  if (file === "" || file === ":memory:") {
    throw new UnsupportedUrlError(url, "an in-memory SQLite catalog is not supported; use file:<path>");
  }
  return { provider: "sqlite", url, file };
}
