import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { makeTempDir, startPostgres, startRedis, stopAll } from "./index.js";
import {
  childrenOf,
  eventually,
  portIsClosed,
  postmasterPid,
  processIsAlive,
} from "./test-support/probes.js";

const FIXTURE = fileURLToPath(new URL("./test-support/owner-process.fixture.ts", import.meta.url));
const CLEANUP_DEADLINE_MS = 10_000;

interface OwnerReport {
  ownerPid: number;
  postgres: { port: number; dir: string; postmasterPid: number };
  redis: { port: number; dir: string; pid: number };
  scratch: string;
}

/**
 * Runs the fixture the way a test runner would load the harness (TS sources via tsx), as `user`
 * if given; `report.ownerPid` is then the node process itself, not runuser.
 */
async function startOwner(
  user?: string,
): Promise<{ owner: ChildProcessWithoutNullStreams; report: OwnerReport }> {
  const node = [process.execPath, "--conditions=development", "--import", "tsx", FIXTURE];
  const [file = "", ...args] = user ? ["runuser", "-u", user, "--", ...node] : node;
  const owner = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  owner.stderr.on("data", (chunk) => (stderr += chunk));
  const [line] = (await Promise.race([
    once(createInterface({ input: owner.stdout }), "line"),
    once(owner, "exit").then(() => {
      throw new Error(`fixture exited before reporting:\n${stderr}`);
    }),
  ])) as [string];
  return { owner, report: JSON.parse(line) as OwnerReport };
}

function everythingAlive(report: OwnerReport): void {
  expect(processIsAlive(report.postgres.postmasterPid)).toBe(true);
  expect(processIsAlive(report.redis.pid)).toBe(true);
  for (const dir of [report.postgres.dir, report.redis.dir, report.scratch])
    expect(existsSync(dir)).toBe(true);
}

async function everythingGone(report: OwnerReport): Promise<boolean> {
  const { postgres, redis } = report;
  return (
    !processIsAlive(postgres.postmasterPid) &&
    childrenOf(postgres.postmasterPid).length === 0 &&
    !processIsAlive(redis.pid) &&
    (await portIsClosed(postgres.port)) &&
    (await portIsClosed(redis.port)) &&
    [postgres.dir, redis.dir, report.scratch].every((dir) => !existsSync(dir))
  );
}

describe("cleanup guarantee", () => {
  it.each(["SIGKILL", "SIGINT", "SIGTERM"] as const)(
    "removes servers and temp dirs of a test process killed with %s",
    async (signal) => {
      const { owner, report } = await startOwner();
      everythingAlive(report);
      owner.kill(signal);
      await once(owner, "exit");
      expect(await eventually(() => everythingGone(report), CLEANUP_DEADLINE_MS)).toBe(true);
    },
  );

  it.runIf(process.getuid?.() === 0)("does the same for a test process that is not root", async () => {
    const { owner, report } = await startOwner("postgres");
    everythingAlive(report);
    process.kill(report.ownerPid, "SIGKILL");
    await once(owner, "exit");
    expect(await eventually(() => everythingGone(report), CLEANUP_DEADLINE_MS)).toBe(true);
  });

  it("removes them at once when a test process exits without stopping them", async () => {
    const { owner, report } = await startOwner();
    everythingAlive(report);
    owner.stdin.write("exit\n");
    await once(owner, "exit");
    // No polling: the exit hook, not the watchdog, must already have done it.
    expect(await everythingGone(report)).toBe(true);
  });

  it("stopAll() stops every server and removes every temp dir of this process", async () => {
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    const scratch = makeTempDir("stop-all");
    const postmaster = postmasterPid(postgres.dataDir);
    await stopAll();
    expect(processIsAlive(postmaster)).toBe(false);
    expect(processIsAlive(redis.pid ?? 0)).toBe(false);
    expect(await portIsClosed(postgres.port)).toBe(true);
    expect(await portIsClosed(redis.port)).toBe(true);
    for (const dir of [postgres.dir, redis.dir, scratch]) expect(existsSync(dir)).toBe(false);
  });
});
