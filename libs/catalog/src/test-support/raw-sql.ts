import pg from "pg";
import { parseCatalogUrl } from "../catalog-url.js";
import { openSqlite } from "../sqlite-driver.js";

/** Runs an SQL script on a database without Prisma (e.g. to prepare a database that is not a catalog). */
export async function rawExec(url: string, sql: string): Promise<void> {
  await withConnection(
    url,
    (db) => db.exec(sql),
    async (client) => {
      await client.query(sql);
    },
  );
}

/** Rows of one query, without Prisma. */
export async function rawQuery(url: string, sql: string): Promise<unknown[]> {
  return withConnection(
    url,
    (db) => db.prepare(sql).all(),
    async (client) => (await client.query(sql)).rows,
  );
}

async function withConnection<T>(
  url: string,
  onSqlite: (db: ReturnType<typeof openSqlite>) => T,
  onPostgres: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const target = parseCatalogUrl(url);
  if (target.provider === "sqlite") {
    const db = openSqlite(target.file, { timeout: 5_000 });
    try {
      return onSqlite(db);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await onPostgres(client);
  } finally {
    await client.end();
  }
}
