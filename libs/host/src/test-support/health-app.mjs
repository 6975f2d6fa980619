// A stand-in for the PiWardrive app: /api/v1/system/health answers 200 only
// when its PostgreSQL table holds the expected rows and its Redis the
// expected data (that many keys, or the app's version key when no count is
// given), so a restore is "healthy" only once the data is back.
// Usage: node health-app.mjs <port> <pgPort> <database> <redisPort> <table> <expectedRows> [<expectedKeys>]
import { createServer } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";

const [port, pgPort, database, redisPort, table, expectedRows, expectedKeys] = process.argv.slice(2);

async function redisHolds(redis) {
  if (expectedKeys !== undefined) return (await redis.dbsize()) === Number(expectedKeys);
  return (await redis.get("piwardrive:version")) !== null;
}

async function healthy() {
  const client = new pg.Client({ host: "127.0.0.1", port: Number(pgPort), user: "postgres", database });
  const redis = new Redis({
    host: "127.0.0.1",
    port: Number(redisPort),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(table)}`);
    await redis.connect();
    return rows[0].n === Number(expectedRows) && (await redisHolds(redis));
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
    redis.disconnect();
  }
}

createServer(async (req, res) => {
  if (req.url !== "/api/v1/system/health") {
    res.writeHead(404).end();
    return;
  }
  const ok = await healthy();
  res
    .writeHead(ok ? 200 : 503, { "content-type": "application/json" })
    .end(JSON.stringify({ status: ok ? "ok" : "degraded" }));
}).listen(Number(port), "127.0.0.1");
