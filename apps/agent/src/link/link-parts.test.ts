import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createLogger } from "@pwdr/logging";
import { AgentPolicySchema, type JobResult, JobResultSchema, JobSchema, JobState } from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { agentConfigSchema } from "../config/agent-config.js";
import { Journal } from "../daemon/journal.js";
import { configuredExecutor } from "./job-executor.js";
import { JobQueue } from "./job-queue.js";
import { Outbox } from "./outbox.js";
import {
  decideLocalRun,
  localJob,
  missedSlot,
  type ScheduleEntry,
  schedulesOfConfig,
  schedulesOfPolicy,
} from "./policy-schedule.js";
import { PolicyStore } from "./policy-store.js";

const quiet = createLogger("test", "error");

function result(runId: string, finishedAt: string): JobResult {
  return create(JobResultSchema, {
    jobId: `job-${runId}`,
    runId,
    state: JobState.SUCCEEDED,
    finishedAt: timestampFromDate(new Date(finishedAt)),
    kind: "backup",
  });
}

describe("outbox", () => {
  it("keeps results as whole files until acknowledged, and lists them oldest first", async () => {
    const dir = makeTempDir("pwdr-outbox-");
    const outbox = new Outbox(dir, quiet);
    await outbox.put(result("run-b", "2026-11-26T02:00:00Z"));
    await outbox.put(result("run-a", "2026-11-26T03:00:00Z"));
    await outbox.put(result("run-c", "2026-11-26T01:00:00Z"));
    // No temp files are left beside the results.
    expect(readdirSync(outbox.dir).sort()).toEqual(["run-a", "run-b", "run-c"]);
    expect((await outbox.pending()).map((r) => r.runId)).toEqual(["run-c", "run-b", "run-a"]);
    expect(await outbox.count()).toBe(3);

    expect(await outbox.ack("run-b")).toBe(true);
    expect(await outbox.ack("run-b")).toBe(false);
    expect((await outbox.pending()).map((r) => r.runId)).toEqual(["run-c", "run-a"]);
  });

  it("moves a torn or foreign file aside without failing, and never follows a path in a run id", async () => {
    const dir = makeTempDir("pwdr-outbox-");
    const outbox = new Outbox(dir, quiet);
    await outbox.put(result("run-ok", "2026-11-26T02:00:00Z"));
    writeFileSync(join(outbox.dir, "run-torn"), '{"jobId":"j","runId":"run-to');
    writeFileSync(join(outbox.dir, "run-other"), JSON.stringify({ runId: "run-else" }));
    writeFileSync(join(outbox.dir, ".run-x.1234.tmp"), "half a write");
    writeFileSync(join(dir, "precious"), "keep me");

    expect((await outbox.pending()).map((r) => r.runId)).toEqual(["run-ok"]);
    expect(readdirSync(outbox.rejectedDir).sort()).toEqual(["run-other", "run-torn"]);
    expect(await outbox.ack("../precious")).toBe(false);
    expect(readFileSync(join(dir, "precious"), "utf8")).toBe("keep me");
    await expect(outbox.put(result("../escape", "2026-11-26T02:00:00Z"))).rejects.toThrow(/cannot name/);
  });
});

describe("policy store", () => {
  it("keeps the last policy across restarts and sets an unreadable one aside", async () => {
    const dir = makeTempDir("pwdr-policy-");
    const store = new PolicyStore(dir, quiet);
    expect(await store.load()).toBeUndefined();
    const policy = create(AgentPolicySchema, {
      version: "v7",
      schedules: [
        {
          name: "backup",
          cron: "15 2 * * *",
          jitterSeconds: 42,
          catchUp: true,
          template: { spec: { case: "backup", value: { sources: ["data"], tags: ["nightly"] } } },
        },
      ],
    });
    await store.save(policy);
    const loaded = await new PolicyStore(dir, quiet).load();
    if (!loaded) throw new Error("the saved policy did not load");
    expect(loaded.version).toBe("v7");
    expect(schedulesOfPolicy(loaded)).toMatchObject([
      { name: "backup", cron: "15 2 * * *", jitterSeconds: 42, catchUp: true, fromController: true },
    ]);
    writeFileSync(store.path, "{ not json");
    expect(await store.load()).toBeUndefined();
    expect(readdirSync(dir)).toContain("policy.json.rejected");
  });
});

describe("who runs a scheduled slot", () => {
  const policyEntry: ScheduleEntry = {
    name: "backup",
    cron: "15 2 * * *",
    jitterSeconds: 0,
    template: create(JobSchema, { spec: { case: "backup", value: { tags: ["nightly"] } } }),
    catchUp: true,
    fromController: true,
  };

  it("leaves a policy slot to a connected controller and runs it here otherwise; config schedules always run here", () => {
    expect(decideLocalRun(policyEntry, true)).toBe("leave-to-controller");
    expect(decideLocalRun(policyEntry, false)).toBe("run-locally");
    expect(decideLocalRun({ fromController: false }, true)).toBe("run-locally");
  });

  it("names a local run by its slot and catches up only the latest slot missed since the last run", () => {
    const slot = new Date("2026-11-26T02:15:00Z");
    const job = localJob(policyEntry, slot);
    expect(job.slotKey).toBe("backup@2026-11-26T02:15:00.000Z");
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect(job.spec).toMatchObject({ case: "backup", value: { tags: ["nightly"] } });
    expect(localJob(policyEntry, slot).jobId).not.toBe(job.jobId);

    const ran = {
      id: "r",
      job: "backup" as const,
      trigger: "schedule" as const,
      pid: 1,
      startedAt: "2026-11-23T02:15:05.000Z",
      status: "ok" as const,
      slotKey: "backup@2026-11-23T02:15:00.000Z",
    };
    expect(missedSlot(policyEntry, [ran], new Date("2026-11-26T09:00:00Z"))?.toISOString()).toBe(
      "2026-11-26T02:15:00.000Z",
    );
    expect(missedSlot(policyEntry, [ran], new Date("2026-11-23T09:00:00Z"))).toBeUndefined();
    expect(missedSlot(policyEntry, [], new Date("2026-11-26T09:00:00Z"))).toBeUndefined();
  });

  it("turns the config's schedules into entries the controller does not own", () => {
    const config = agentConfigSchema.parse({
      repository: { path: "/srv/repo", passwordFile: "/etc/pw" },
      sources: [{ kind: "files", name: "data", paths: ["/data"] }],
      schedules: { backup: "0 2 * * *", check: "0 4 * * 0", retention: "0 3 * * *" },
      retention: { keepDaily: 7 },
      verify: { readDataSubset: "10%" },
    });
    expect(
      schedulesOfConfig(config).map((e) => [e.name, e.cron, e.template.spec.case, e.fromController]),
    ).toEqual([
      ["backup", "0 2 * * *", "backup", false],
      ["check", "0 4 * * 0", "verify", false],
      ["retention", "0 3 * * *", "prune", false],
    ]);
    expect(schedulesOfConfig(config)[2]?.template.spec.value).toMatchObject({ retention: { keepDaily: 7 } });
  });
});

describe("job queue", () => {
  async function setUp() {
    const dir = makeTempDir("pwdr-queue-");
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data/scan.json"), '{"aps":3}');
    writeFileSync(join(dir, "pw"), "secret\n");
    await Repository.init(new LocalBackend(join(dir, "repo")), "secret", { kdf: { N: 1024, r: 8, p: 1 } });
    const config = agentConfigSchema.parse({
      host: "pi-q",
      stateDir: join(dir, "state"),
      controller: {},
      repository: { path: join(dir, "repo"), passwordFile: join(dir, "pw") },
      sources: [{ kind: "files", name: "data", paths: [join(dir, "data")] }],
    });
    const journal = new Journal(config.stateDir);
    const reported: JobResult[] = [];
    const accepted: string[] = [];
    const queue = new JobQueue({
      stateDir: config.stateDir,
      journal,
      executor: configuredExecutor(config),
      log: quiet,
      accepted: (jobId, runId) => accepted.push(`${jobId}/${runId}`),
      progress: () => {},
      report: async (r) => {
        reported.push(r);
      },
      reported: async (runId) => reported.some((r) => r.runId === runId),
    });
    // A run's result is reported before its end is journaled and before the queue lets go of
    // the run (a job sent again until then is the running one): settled means all three happened.
    const settled = async (count: number) => {
      for (let i = 0; i < 200; i++) {
        const finished = new Set(
          (await journal.runs()).filter((r) => r.status !== "running").map((r) => r.id),
        );
        const idle = queue.runningJobIds().length === 0;
        if (reported.length >= count && reported.every((r) => finished.has(r.runId)) && idle) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      return reported;
    };
    return { queue, journal, reported, accepted, settled };
  }

  const backupJob = (init: { jobId: string; slotKey?: string; attempt?: number; deadline?: Timestamp }) =>
    create(JobSchema, { attempt: 1, ...init, spec: { case: "backup", value: {} } });

  it("answers a job it already ran (same job id, or same slot) with the stored result, and runs a retry again", async () => {
    const { queue, journal, reported, accepted, settled } = await setUp();
    await queue.submit({
      job: backupJob({ jobId: "j1", slotKey: "backup@2026-11-26T02:00:00.000Z" }),
      locallyScheduled: false,
      trigger: "controller",
    });
    const [first] = await settled(1);
    expect(first?.state).toBe(JobState.SUCCEEDED);
    expect(accepted).toEqual([`j1/${first?.runId}`]);

    await queue.submit({ job: backupJob({ jobId: "j1" }), locallyScheduled: false, trigger: "controller" });
    await queue.submit({
      job: backupJob({ jobId: "j9", slotKey: "backup@2026-11-26T02:00:00.000Z" }),
      locallyScheduled: false,
      trigger: "controller",
    });
    await settled(3);
    expect(reported.slice(1).map((r) => [r.runId, r.state])).toEqual([
      [first?.runId, JobState.SUCCEEDED],
      [first?.runId, JobState.SUCCEEDED],
    ]);
    expect((await journal.runs()).filter((r) => r.job === "backup")).toHaveLength(1);

    await queue.submit({
      job: backupJob({ jobId: "j1", attempt: 2 }),
      locallyScheduled: false,
      trigger: "controller",
    });
    const retried = (await settled(4))[3];
    expect(retried?.runId).not.toBe(first?.runId);
    expect((await journal.runs()).filter((r) => r.job === "backup")).toHaveLength(2);
  });

  it("reports a job past its deadline as failed without running it", async () => {
    const { queue, journal, accepted, settled } = await setUp();
    const deadline = timestampFromDate(new Date(Date.now() - 1000));
    await queue.submit({
      job: backupJob({ jobId: "late", deadline }),
      locallyScheduled: false,
      trigger: "controller",
    });
    const [late] = await settled(1);
    expect(late).toMatchObject({
      state: JobState.FAILED,
      error: { code: "deadline_exceeded", retryable: true },
    });
    expect(accepted).toEqual([]);
    expect((await journal.runs()).map((r) => [r.jobId, r.status])).toEqual([["late", "failed"]]);
  });

  it("reports a run a killed agent left unfinished as failed with agent_stopped, once", async () => {
    const { queue, journal, reported } = await setUp();
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    await journal.write({
      id: "run-killed",
      job: "check",
      trigger: "controller",
      pid: dead.pid as number,
      startedAt: "2026-11-26T02:00:00.000Z",
      status: "running",
      jobId: "j-killed",
      attempt: 1,
    });
    await queue.reportAbandoned();
    await queue.reportAbandoned();
    expect(reported.map((r) => [r.runId, r.jobId, r.kind, r.state, r.error?.code])).toEqual([
      ["run-killed", "j-killed", "verify", JobState.FAILED, "agent_stopped"],
    ]);
    expect((await journal.runs()).map((r) => r.status)).toEqual(["abandoned"]);
  });

  it("keeps the result of a run killed after reporting it but before journaling its end", async () => {
    const { queue, journal, reported } = await setUp();
    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    reported.push(
      create(JobResultSchema, { runId: "run-reported", jobId: "j-done", state: JobState.SUCCEEDED }),
    );
    await journal.write({
      id: "run-reported",
      job: "backup",
      trigger: "schedule",
      pid: dead.pid as number,
      startedAt: "2026-11-26T02:00:00.000Z",
      status: "running",
      jobId: "j-done",
      attempt: 1,
    });
    await queue.reportAbandoned();
    expect(reported.map((r) => [r.runId, r.state])).toEqual([["run-reported", JobState.SUCCEEDED]]);
  });
});
