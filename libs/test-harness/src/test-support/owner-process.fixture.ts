// A stand-in for a test process: starts servers through the harness, reports them as one JSON
// line, then waits to be killed, or to exit without stopping anything when it reads "exit".
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { makeTempDir, startPostgres, startRedis } from "../index.js";

const postgres = await startPostgres();
const redis = await startRedis({ appendonly: true });
const scratch = makeTempDir("fixture-scratch");

console.log(
  JSON.stringify({
    ownerPid: process.pid,
    postgres: {
      port: postgres.port,
      dir: postgres.dir,
      postmasterPid: Number(readFileSync(`${postgres.dataDir}/postmaster.pid`, "utf8").split("\n")[0]),
    },
    redis: { port: redis.port, dir: redis.dir, pid: redis.pid },
    scratch,
  }),
);

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line === "exit") process.exit(0);
});
