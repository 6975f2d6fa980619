import { existsSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { startPostgres, stopAll } from "./index.js";
import { portIsClosed } from "./test-support/probes.js";

afterAll(stopAll);

async function queryOne(url: string, sql: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as Record<string, unknown>;
  } finally {
    await client.end();
  }
}

describe("startPostgres", () => {
  it("starts a server that answers queries on 127.0.0.1 as postgres", async () => {
    const server = await startPostgres();
    expect(server.url).toBe(`postgresql://postgres@127.0.0.1:${server.port}/postgres`);
    const row = await queryOne(
      server.url,
      "SELECT current_user AS who, inet_server_addr()::text AS addr, current_setting('fsync') AS fsync",
    );
    expect(row).toEqual({ who: "postgres", addr: "127.0.0.1/32", fsync: "off" });
    expect(server.version).toBeGreaterThanOrEqual(10);
    expect(
      await queryOne(server.url, "SELECT current_setting('server_version_num')::int / 10000 AS major"),
    ).toEqual({
      major: server.version,
    });
    expect(existsSync(`${server.socketDir}/.s.PGSQL.${server.port}`)).toBe(true);
    await server.stop();
  });

  it("creates databases, at start and on demand", async () => {
    const server = await startPostgres({ databases: ["catalog"] });
    expect(await queryOne(server.urlFor("catalog"), "SELECT current_database() AS db")).toEqual({
      db: "catalog",
    });
    const url = await server.createDatabase("Odd Name");
    expect(url).toBe(`postgresql://postgres@127.0.0.1:${server.port}/Odd%20Name`);
    expect(await queryOne(url, "SELECT current_database() AS db")).toEqual({ db: "Odd Name" });
    await server.stop();
  });

  it("stop() shuts the server down and removes its directory", async () => {
    const server = await startPostgres();
    await server.stop();
    expect(await portIsClosed(server.port)).toBe(true);
    expect(existsSync(server.dataDir)).toBe(false);
    expect(existsSync(server.dir)).toBe(false);
  });

  it("runs servers side by side on distinct ports and directories", async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    expect(a.port).not.toBe(b.port);
    expect(a.dataDir).not.toBe(b.dataDir);
    await queryOne(a.url, "CREATE TABLE only_in_a (x int)");
    expect(await queryOne(b.url, "SELECT to_regclass('only_in_a') IS NULL AS absent")).toEqual({
      absent: true,
    });
    await Promise.all([a.stop(), b.stop()]);
  });
});
