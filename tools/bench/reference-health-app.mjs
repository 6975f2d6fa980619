// The stand-in for the PiWardrive app on dr-bench's hosts: its service is
// what the DR plan stops and starts, and /api/v1/system/health answers 200
// only when PostgreSQL holds the expected scan sessions and Redis the
// expected number of keys, so the run's RTO ends when the data is back.
// usage: node reference-health-app.mjs <port> <pgPort> <database> <redisPort> <sessions> <keys>
import { createServer } from "node:http";
import { Redis } from "ioredis";
import pg from "pg";

const [port, pgPort, database, redisPort, sessions, keys] = process.argv.slice(2);

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
    const { rows } = await client.query("SELECT count(*)::int AS n FROM scan_sessions");
    await redis.connect();
    return rows[0].n === Number(sessions) && (await redis.dbsize()) === Number(keys);
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
