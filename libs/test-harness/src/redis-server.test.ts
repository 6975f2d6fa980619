import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startRedis, stopAll } from "./index.js";
import { eventually } from "./test-support/probes.js";

afterAll(stopAll);

async function withClient<T>(url: string, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return await use(client);
  } finally {
    client.disconnect();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startRedis", () => {
  it("with appendonly, writes commands to appendonlydir in its own dir", async () => {
    const server = await startRedis({ appendonly: true });
    expect(readFileSync(server.configFile, "utf8")).toMatch(/^appendonly yes$/m);
    const dir = await withClient(server.url, async (client) => {
      await client.set("backup:last", "ok");
      return (await client.config("GET", "dir")) as string[];
    });
    expect(dir).toEqual(["dir", server.dir]);
    const aofDir = join(server.dir, "appendonlydir");
    const aofHasKey = () =>
      readdirSync(aofDir).some(
        (file) =>
          file.endsWith(".incr.aof") && readFileSync(join(aofDir, file), "utf8").includes("backup:last"),
      );
    expect(await eventually(aofHasKey, 5_000)).toBe(true);
    await server.stop();
  });

  it("without appendonly, creates no appendonlydir", async () => {
    const server = await startRedis();
    expect(server.appendonly).toBe(false);
    await withClient(server.url, (client) => client.set("k", "v"));
    expect(existsSync(join(server.dir, "appendonlydir"))).toBe(false);
    await server.stop();
  });

  it("applies extra config directives", async () => {
    const server = await startRedis({ extraConfig: { "maxmemory-policy": "noeviction", databases: "4" } });
    const policy = await withClient(server.url, (client) => client.config("GET", "maxmemory-policy"));
    expect(policy).toEqual(["maxmemory-policy", "noeviction"]);
    await server.stop();
  });

  it("restart() keeps the port, the config and the data", async () => {
    const server = await startRedis({ appendonly: true });
    const firstPid = server.pid;
    await withClient(server.url, (client) => client.set("survives", "restart"));
    await server.restart();
    expect(server.pid).not.toBe(firstPid);
    expect(await withClient(server.url, (client) => client.get("survives"))).toBe("restart");
    await server.stop();
  });

  it("stop() kills the server and removes its directory", async () => {
    const server = await startRedis({ appendonly: true });
    const pid = server.pid as number;
    await server.stop();
    // The process, not the port: another test process may bind a freed port at once.
    // A killed child stays a zombie until Node reaps it, hence the short wait.
    expect(await eventually(() => !isAlive(pid), 5_000)).toBe(true);
    expect(existsSync(server.dir)).toBe(false);
  });

  it("refuses config directives that could smuggle in other lines", async () => {
    await expect(startRedis({ extraConfig: { save: '""\nrequirepass x' } })).rejects.toMatchObject({
      code: "HARNESS_INVALID_OPTIONS",
    });
  });
});
