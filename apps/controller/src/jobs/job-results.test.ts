import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createLogger } from "@pwdr/logging";
import { JobState, SourceKind } from "@pwdr/protocol";
import { makeTempDir, type PostgresServer, startPostgres } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningController, startController } from "../controller-server.js";
import { AGENT_HELD_PASSWORD } from "./result-recovery-point.js";
import { type AgentLink, connectAgent, until } from "./test-support/agent-link.js";

const STARTED = new Date("2026-11-26T02:15:03.000Z");
const FINISHED = new Date("2026-11-26T02:16:40.000Z");

function backupResult(fields: { jobId: string; runId: string; pointId: string }) {
  return {
    jobId: fields.jobId,
    runId: fields.runId,
    state: JobState.SUCCEEDED,
    kind: "backup",
    startedAt: timestampFromDate(STARTED),
    finishedAt: timestampFromDate(FINISHED),
    bytesRead: 5_000n,
    bytesAdded: 1_200n,
    detailsJson: JSON.stringify({ note: "two sources" }),
    recoveryPoint: {
      recoveryPointId: fields.pointId,
      time: timestampFromDate(STARTED),
      versions: { postgres: "16.4", agent: "0.1.0" },
      sources: [
        {
          source: "piwardrive-db",
          kind: SourceKind.POSTGRES,
          state: JobState.SUCCEEDED,
          // What an agent whose repository is on the controller reports (repositoryNameOf).
          repository: "controller",
          snapshotId: `${fields.runId}-db`,
          sizeBytes: 4_000n,
          addedBytes: 1_000n,
          fileCount: 2n,
          counts: { "table:public.scans": 42n },
        },
        {
          source: "config",
          kind: SourceKind.CONFIG,
          state: JobState.SUCCEEDED,
          repository: "usb-disk",
          snapshotId: `${fields.runId}-config`,
          sizeBytes: 1_000n,
          addedBytes: 200n,
          fileCount: 7n,
        },
      ],
    },
  };
}

const providers = ["sqlite", "postgres"] as const;

describe.each(providers)("job results from agents (catalog on %s)", (provider) => {
  let controller: RunningController;
  let postgres: PostgresServer | undefined;
  let agent: AgentLink;
  let other: AgentLink;

  beforeAll(async () => {
    postgres = provider === "postgres" ? await startPostgres() : undefined;
    controller = await startController({
      dataDir: await makeTempDir("pwdr-job-results-"),
      ...(postgres ? { catalogUrl: await postgres.createDatabase("results") } : {}),
      heartbeatIntervalMs: 60_000,
      log: createLogger("controller", "error"),
    });
    agent = await connectAgent(controller, "pi-results");
    other = await connectAgent(controller, "pi-other");
  });

  afterAll(async () => {
    agent?.close();
    other?.close();
    await controller?.close();
    await postgres?.stop();
  });

  async function queuedJob(
    hostId: string,
    fields: { key: string; state?: string; params?: object; attempt?: number },
  ) {
    return controller.db.job.create({
      data: {
        kind: "backup",
        hostId,
        scheduledFor: new Date(),
        state: fields.state ?? "dispatched",
        attempt: fields.attempt ?? 1,
        createdBy: "token:test",
        idempotencyKey: fields.key,
        params: { spec: {}, ...fields.params },
      },
    });
  }

  const acksOf = (link: AgentLink) =>
    link.received.flatMap((m) => (m.body.case === "resultAck" ? [m.body.value.runId] : []));

  it("records a dispatched run once however often its result is replayed", async () => {
    const job = await queuedJob(agent.hostId, { key: "op/replay" });
    agent.send({ case: "accepted", value: { jobId: job.id, runId: "run-replay" } });
    agent.send({
      case: "progress",
      value: { jobId: job.id, runId: "run-replay", phase: "postgres", bytesDone: 100n, bytesTotal: 400n },
    });
    await until(async () => {
      const run = await controller.db.jobRun.findUnique({ where: { idempotencyKey: "run-replay" } });
      return run?.phase === "postgres";
    }, "the progress on the run");
    expect((await controller.db.job.findUniqueOrThrow({ where: { id: job.id } })).state).toBe("running");

    const result = backupResult({
      jobId: job.id,
      runId: "run-replay",
      pointId: "20261126T021503Z-aaaaaa",
    });
    for (let i = 0; i < 3; i++) agent.send({ case: "result", value: result });
    await until(() => acksOf(agent).filter((r) => r === "run-replay").length === 3, "three acks");

    const runs = await controller.db.jobRun.findMany({ where: { jobId: job.id } });
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({
      state: "succeeded",
      bytesRead: 5_000n,
      bytesAdded: 1_200n,
      startedAt: STARTED,
      finishedAt: FINISHED,
      details: { note: "two sources" },
    });
    expect(await controller.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      state: "succeeded",
      finishedAt: FINISHED,
      reason: null,
    });
    const points = await controller.db.recoveryPoint.findMany({
      where: { hostId: agent.hostId },
      include: { snapshots: { include: { repository: true }, orderBy: { sourceName: "asc" } } },
    });
    expect(points).toHaveLength(1);
    expect(points[0]).toMatchObject({
      id: "20261126T021503Z-aaaaaa",
      status: "complete",
      jobRunId: runs[0]?.id,
      versions: { postgres: "16.4", agent: "0.1.0" },
    });
    const snapshots = points[0]?.snapshots ?? [];
    expect(snapshots.map((s) => [s.sourceName, s.sourceKind, s.repository.name, s.repository.kind])).toEqual([
      ["config", "config", `${agent.hostId}/usb-disk`, "local"],
      ["piwardrive-db", "postgres", agent.hostId, "controller"],
    ]);
    expect(snapshots[1]).toMatchObject({
      sizeBytes: 4_000n,
      fileCount: 2,
      stats: { counts: { "table:public.scans": 42 } },
    });
    expect(snapshots[0]?.repository.passwordKeyId).toBe(AGENT_HELD_PASSWORD);
    expect(await controller.db.snapshot.count({ where: { hostId: agent.hostId } })).toBe(2);
  });

  it("merges a locally scheduled run with the pending job of its slot", async () => {
    const slotKey = "backup@2026-11-26T03:00:00.000Z";
    const pending = await queuedJob(agent.hostId, {
      key: `${agent.hostId}/${slotKey}`,
      state: "pending",
      attempt: 0,
    });
    const result = {
      ...backupResult({
        jobId: "agent-local-1",
        runId: "run-local-slot",
        pointId: "20261126T030001Z-bbbbbb",
      }),
      locallyScheduled: true,
      slotKey,
    };
    agent.send({ case: "result", value: result });
    agent.send({ case: "result", value: result });
    await until(() => acksOf(agent).filter((r) => r === "run-local-slot").length === 2, "two acks");

    const jobs = await controller.db.job.findMany({ where: { idempotencyKey: { contains: slotKey } } });
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[pending.id, "succeeded"]]);
    const run = await controller.db.jobRun.findUniqueOrThrow({ where: { idempotencyKey: "run-local-slot" } });
    expect(run).toMatchObject({ jobId: pending.id, locallyScheduled: true });
  });

  it("creates a job for a local run without a slot, named after the agent", async () => {
    const result = {
      ...backupResult({
        jobId: "agent-local-2",
        runId: "run-local-free",
        pointId: "20261126T040000Z-cccccc",
      }),
      locallyScheduled: true,
      kind: "verify",
      recoveryPoint: undefined,
    };
    agent.send({ case: "result", value: result });
    await agent.waitFor("resultAck", acksOf(agent).length + 1);
    const job = await controller.db.job.findUniqueOrThrow({
      where: { idempotencyKey: "local/run-local-free" },
    });
    expect(job).toMatchObject({ kind: "verify", state: "succeeded", createdBy: `agent:${agent.hostName}` });
  });

  it("puts a failed job back in the queue while retryable attempts are left", async () => {
    const retry = { attempts: 2, initialDelayMs: 30_000, maxDelayMs: 600_000 };
    const job = await queuedJob(agent.hostId, { key: "op/retry", params: { retry } });
    const failed = (runId: string) => ({
      jobId: job.id,
      runId,
      state: JobState.FAILED,
      kind: "backup",
      error: { code: "repo_locked", message: "locked by pi-x pid 7", retryable: true },
    });
    const before = Date.now();
    agent.send({ case: "result", value: failed("run-retry-1") });
    await until(() => acksOf(agent).includes("run-retry-1"), "the first ack");
    const requeued = await controller.db.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(requeued.state).toBe("pending");
    expect(requeued.reason).toContain("repo_locked");
    expect(requeued.scheduledFor.getTime()).toBeGreaterThanOrEqual(before + retry.initialDelayMs);

    await controller.db.job.update({ where: { id: job.id }, data: { state: "dispatched", attempt: 2 } });
    agent.send({ case: "result", value: failed("run-retry-2") });
    // A replay of the first attempt's result must not put the job back in the queue.
    agent.send({ case: "result", value: failed("run-retry-1") });
    await until(() => acksOf(agent).filter((r) => r.startsWith("run-retry")).length === 3, "three acks");
    expect(await controller.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      state: "failed",
      reason: "repo_locked: locked by pi-x pid 7",
    });
    expect(await controller.db.jobRun.count({ where: { jobId: job.id } })).toBe(2);
  });

  it("refuses results for another host's job or without a run id, and keeps the stream", async () => {
    const foreign = await queuedJob(other.hostId, { key: "op/foreign" });
    agent.send({
      case: "result",
      value: { jobId: foreign.id, runId: "run-foreign", state: JobState.SUCCEEDED },
    });
    agent.send({ case: "result", value: { jobId: foreign.id, runId: "", state: JobState.SUCCEEDED } });
    agent.send({
      case: "result",
      value: { jobId: foreign.id, runId: "run-not-final", state: JobState.RUNNING },
    });
    const mine = await queuedJob(agent.hostId, { key: "op/after-refusals" });
    agent.send({
      case: "result",
      value: { jobId: mine.id, runId: "run-after", state: JobState.SUCCEEDED, kind: "backup" },
    });
    await until(() => acksOf(agent).includes("run-after"), "the ack of the valid result");

    expect(acksOf(agent)).not.toContain("run-foreign");
    expect(acksOf(agent)).not.toContain("run-not-final");
    expect(
      await controller.db.jobRun.count({
        where: { idempotencyKey: { in: ["run-foreign", "run-not-final"] } },
      }),
    ).toBe(0);
    expect((await controller.db.job.findUniqueOrThrow({ where: { id: foreign.id } })).state).toBe(
      "dispatched",
    );
  });
});
