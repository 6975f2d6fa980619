// What the end-to-end tests compare before a backup and after a restore:
// PostgreSQL through psql/pg_dump, Redis through redis-cli, files by digest.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type PostgresServer, type RedisServer, redisServerBinary } from "@pwdr/test-harness";

export function psql(pg: PostgresServer, database: string, sql: string): string {
  const args = ["-h", pg.host, "-p", String(pg.port), "-U", "postgres", "-d", database, "-Atc", sql];
  const r = spawnSync(join(pg.binDir, "psql"), args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** The schema and data of a database, without the comment and \restrict lines that differ per run. */
export function pgDump(pg: PostgresServer, database: string): string {
  const args = ["-h", pg.host, "-p", String(pg.port), "-U", "postgres", "-d", database];
  const r = spawnSync(join(pg.binDir, "pg_dump"), args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout
    .split("\n")
    .filter((l) => !l.startsWith("--") && !/^\\(un)?restrict /.test(l))
    .join("\n");
}

export function redisCli(redis: RedisServer, ...args: string[]): string {
  const cli = join(redisServerBinary(), "..", "redis-cli");
  return spawnSync(cli, ["-p", String(redis.port), ...args], { encoding: "utf8" }).stdout.trim();
}

/** Every key of databases 0 and 1 with its serialized value and whether it has a TTL. */
export function redisState(redis: RedisServer): string[] {
  const out: string[] = [];
  for (const db of ["0", "1"]) {
    for (const key of redisCli(redis, "-n", db, "KEYS", "*").split("\n").filter(Boolean).sort()) {
      const dump = redisCli(redis, "-n", db, "--no-raw", "DUMP", key);
      const ttl = Number(redisCli(redis, "-n", db, "TTL", key));
      out.push(`${db}:${key}=${dump} ttl:${ttl > 0 ? "yes" : ttl}`);
    }
  }
  return out;
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** SHA-256 and mode of every file under `dir`, keyed by the path relative to it. */
export function digests(dir: string): Record<string, string> {
  return Object.fromEntries(
    filesUnder(dir).map((path) => [
      path.slice(dir.length),
      `${createHash("sha256").update(readFileSync(path)).digest("hex")} ${statSync(path).mode & 0o777}`,
    ]),
  );
}
