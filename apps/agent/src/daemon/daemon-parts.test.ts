import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@pwdr/logging";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { agentConfigSchema } from "../config/agent-config.js";
import { acquireJobLock } from "./job-lock.js";
import { Journal, type RunRecord } from "./journal.js";
import { executeJob } from "./run-job.js";
import { missedRun, Scheduler } from "./scheduler.js";

afterAll(stopAll);

const quiet = createLogger("test", "error");

function record(overrides: Partial<RunRecord>): RunRecord {
  return {
    id: "r1",
    job: "backup",
    trigger: "schedule",
    pid: process.pid,
    startedAt: "2026-11-26T02:00:00.000Z",
    status: "running",
    ...overrides,
  };
}

describe("journal", () => {
  it("keeps each run's latest state, skips a torn line, and reads a dead process's run as abandoned", async () => {
    const dir = makeTempDir("pwdr-journal-");
    const journal = new Journal(dir);
    await journal.write(record({ id: "a" }));
    await journal.write(record({ id: "a", status: "ok", finishedAt: "2026-11-26T02:01:00.000Z" }));
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    await journal.write(record({ id: "b", pid: dead.pid as number, startedAt: "2026-11-26T03:00:00.000Z" }));
    appendFileSync(journal.path, '{"id":"c","job":"back');
    const runs = await journal.runs();
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      ["a", "ok"],
      ["b", "abandoned"],
    ]);
    expect((await journal.lastRun("backup", (r) => r.status === "ok"))?.id).toBe("a");
  });
});

describe("job lock", () => {
  it("refuses a second holder while the first lives, and takes over a dead holder's lock", async () => {
    const dir = makeTempDir("pwdr-joblock-");
    const lock = await acquireJobLock(dir, "backup");
    await expect(acquireJobLock(dir, "backup")).rejects.toMatchObject({
      code: "repo_locked",
      message: expect.stringMatching(/backup job is already running \(pid \d+\)/),
    });
    const other = await acquireJobLock(dir, "check");
    await other.release();
    await lock.release();
    mkdirSync(join(dir, "locks"), { recursive: true });
    writeFileSync(join(dir, "locks/backup.pid"), "999999\n");
    const taken = await acquireJobLock(dir, "backup");
    await taken.release();
  });
});

describe("scheduler", () => {
  it("runs jobs one at a time and skips a job that fires while it is queued or running", async () => {
    const order: string[] = [];
    const skipped: string[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const scheduler = new Scheduler(
      [],
      async (job) => {
        order.push(`start ${job}`);
        if (job === "backup") await gate;
        order.push(`end ${job}`);
      },
      (job) => skipped.push(job),
    );
    scheduler.trigger("backup", "schedule");
    scheduler.trigger("check", "schedule");
    scheduler.trigger("backup", "schedule");
    scheduler.trigger("check", "schedule");
    expect(scheduler.running).toBe("backup");
    release();
    await scheduler.stop();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(skipped).toEqual(["backup", "check"]);
    expect(order).toEqual(["start backup", "end backup"]);
  });

  it("finds a run missed while the agent was down", () => {
    const since = new Date("2026-11-25T02:20:00Z");
    expect(missedRun("15 2 * * *", since, new Date("2026-11-26T09:00:00Z"))?.toISOString()).toBe(
      "2026-11-26T02:15:00.000Z",
    );
    expect(missedRun("15 2 * * *", since, new Date("2026-11-26T02:00:00Z"))).toBeUndefined();
  });
});

describe("a job while the repository is unreachable", () => {
  it("retries with backoff, reports the reason, then succeeds once the repository is back", async () => {
    const dir = makeTempDir("pwdr-retry-");
    const repoPath = join(dir, "nas/repo");
    writeFileSync(join(dir, "pw"), "secret\n");
    mkdirSync(join(dir, "etc"));
    writeFileSync(join(dir, "etc/app.conf"), "x=1\n");
    const config = agentConfigSchema.parse({
      host: "pi-r",
      stateDir: join(dir, "state"),
      repository: { path: repoPath, passwordFile: join(dir, "pw") },
      sources: [{ kind: "config", name: "config", paths: [join(dir, "etc")] }],
      schedules: { backup: "0 2 * * *" },
      retry: { attempts: 4, initialDelayMs: 1000, maxDelayMs: 8000 },
    });
    const waits: number[] = [];
    const wait = async (ms: number) => {
      waits.push(ms);
      // The NAS comes back during the second wait.
      if (waits.length === 2)
        await Repository.init(new LocalBackend(repoPath), "secret", { kdf: { N: 1024, r: 8, p: 1 } });
    };
    const journal = new Journal(config.stateDir);
    const result = await executeJob("backup", { config, journal, trigger: "manual", log: quiet, wait });
    expect(result).toMatchObject({ status: "ok", attempts: 3 });
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);

    const gone = agentConfigSchema.parse({
      ...config,
      repository: { ...config.repository, path: join(dir, "never") },
      retry: { attempts: 2, initialDelayMs: 0 },
    });
    const failed = await executeJob("backup", {
      config: gone,
      journal,
      trigger: "manual",
      log: quiet,
      wait: async () => {},
    });
    expect(failed).toMatchObject({
      status: "failed",
      attempts: 2,
      error: expect.stringMatching(/no repository at .*never/),
    });
    expect((await journal.runs()).map((r) => r.status)).toEqual(["ok", "failed"]);
  });
});

describe("agent config", () => {
  it("requires a retention policy when retention is scheduled and one password source", () => {
    const base = {
      repository: { path: "/srv/repo", passwordFile: "/etc/pw" },
      sources: [{ kind: "files", name: "data", paths: ["/data"] }],
      schedules: { backup: "0 2 * * *", retention: "0 3 * * *" },
    };
    const result = agentConfigSchema.safeParse(base);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["retention", "schedules.retention is set: say what to keep here"],
    ]);
    const twoPasswords = agentConfigSchema.safeParse({
      ...base,
      schedules: { backup: "0 2 * * *" },
      repository: { path: "/srv/repo" },
    });
    expect(twoPasswords.error?.issues[0]?.message).toBe("give exactly one of passwordFile or passwordEnv");
    const badCron = agentConfigSchema.safeParse({ ...base, schedules: { backup: "every night" } });
    expect(badCron.error?.issues[0]).toMatchObject({
      path: ["schedules", "backup"],
      message: expect.stringMatching(/not a cron expression/),
    });
  });
});
