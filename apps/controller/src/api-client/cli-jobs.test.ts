import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createLogger } from "@pwdr/logging";
import { JobState, SourceKind } from "@pwdr/protocol";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiToken } from "../api-tokens.js";
import { controllerCli } from "../cli.js";
import { type RunningController, startController } from "../controller-server.js";
import { type AgentLink, connectAgent, until } from "../jobs/test-support/agent-link.js";
import { progressLine } from "./job-wait.js";

describe("pwdr-controller api jobs / recovery-points / restore", () => {
  let controller: RunningController;
  let dir: string;
  let agent: AgentLink;
  let operator: string;

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-cli-jobs-");
    controller = await startController({
      dataDir: dir,
      heartbeatIntervalMs: 60_000,
      log: createLogger("controller", "error"),
    });
    agent = await connectAgent(controller, "pi-cli-jobs");
    operator = (await createApiToken(controller.db, { name: "cli-operator", role: "operator" })).token;
  });

  afterAll(async () => {
    agent?.close();
    await controller?.close();
  });

  /** What the running command wrote to stderr so far (progress goes there). */
  let progressSoFar = "";

  async function api(...args: string[]): Promise<{ out: string; err: string }> {
    let out = "";
    let err = "";
    progressSoFar = "";
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      err += String(chunk);
      progressSoFar = err;
      return true;
    });
    const ca = join(dir, "pki", "ca.crt");
    try {
      await controllerCli().parseAsync(
        ["node", "x", "api", "--url", controller.apiUrl, "--ca", ca, "--token", operator, ...args],
        {
          from: "node",
        },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    return { out, err };
  }

  /** Plays the agent's side of the next job queued for the host: accept, report progress, finish. */
  async function runNextJob(state: JobState, pointId?: string): Promise<string> {
    let jobId = "";
    await until(async () => {
      const job = await controller.db.job.findFirst({
        where: { hostId: agent.hostId, state: { in: ["pending", "dispatched"] } },
      });
      jobId = job?.id ?? "";
      return Boolean(job);
    }, "the queued job");
    const runId = `run-${jobId}`;
    agent.send({ case: "accepted", value: { jobId, runId } });
    agent.send({
      case: "progress",
      value: { jobId, runId, phase: "postgres", bytesDone: 512n, bytesTotal: 1024n },
    });
    await until(() => progressSoFar.includes("backup: postgres"), "the CLI to show the progress");
    agent.send({
      case: "result",
      value: {
        jobId,
        runId,
        state,
        kind: "backup",
        startedAt: timestampFromDate(new Date()),
        finishedAt: timestampFromDate(new Date()),
        ...(state === JobState.FAILED
          ? { error: { code: "source_failed", message: "pg_dump exited 1" } }
          : {}),
        ...(pointId
          ? {
              recoveryPoint: {
                recoveryPointId: pointId,
                sources: [
                  {
                    source: "piwardrive-db",
                    kind: SourceKind.POSTGRES,
                    state: JobState.SUCCEEDED,
                    repository: agent.hostId,
                    snapshotId: `${runId}-snap`,
                  },
                ],
              },
            }
          : {}),
      },
    });
    return jobId;
  }

  it("starts a job, follows its progress with --wait and exits 0 when it succeeds", async () => {
    const [{ out, err }, jobId] = await Promise.all([
      api("jobs", "start", "pi-cli-jobs", "backup", "--source", "piwardrive-db", "--wait"),
      runNextJob(JobState.SUCCEEDED, "20261126T050000Z-c1c1c1"),
    ]);
    expect(out).toBe(`job ${jobId} succeeded\n`);
    expect(err).toContain("backup: postgres [############------------] 50% 512 B/1.0 KiB");
  });

  it("exits 1 with the reason when the awaited job fails", async () => {
    const run = Promise.all([
      api("jobs", "start", agent.hostId, "backup", "--wait"),
      runNextJob(JobState.FAILED),
    ]);
    await expect(run).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(/failed: source_failed: pg_dump exited 1$/),
    });
  });

  it("lists, shows and cancels jobs", async () => {
    // An offline host: its job stays pending, where a cancel takes effect at once.
    const offline = await controller.db.host.create({ data: { name: "pi-cli-offline", labels: {} } });
    const { out: queued } = await api("--json", "jobs", "start", "pi-cli-offline", "verify");
    const job = JSON.parse(queued) as { id: string; state: string };
    expect(job.state).toBe("pending");
    const listed = await api("jobs", "list", "--host", "pi-cli-offline", "--limit", "1");
    expect(listed.out).toMatch(
      new RegExp(
        `^CREATED +KIND +STATE +HOST +ATTEMPT +BY +ID\\n\\S+ +verify +pending +${offline.id} +0 +token:cli-operator +${job.id}\\n$`,
      ),
    );
    expect((await api("jobs", "cancel", job.id)).out).toBe(`cancelled job ${job.id}\n`);
    expect((await api("jobs", "show", job.id)).out).toMatch(/\nstate +cancelled\n/);
    await expect(api("jobs", "start", "pi-nowhere", "backup")).rejects.toThrow(
      'no host with id or name "pi-nowhere"',
    );
    await expect(api("jobs", "start", "pi-cli-jobs", "restore")).rejects.toThrow(
      /VALIDATION_FAILED.*body\/spec/,
    );
  });

  it("lists recovery points and queues a dry-run restore of the newest complete one", async () => {
    const { out } = await api("recovery-points", "list", "--host", "pi-cli-jobs");
    expect(out).toMatch(
      /^ID +HOST +TIME +STATUS +SNAPSHOTS\n20261126T050000Z-c1c1c1 +pi-cli-jobs +\S+ +complete +1\n$/,
    );
    const shown = await api("recovery-points", "show", "20261126T050000Z-c1c1c1");
    expect(shown.out).toMatch(/\npiwardrive-db +postgres +complete /);
    const restore = JSON.parse((await api("--json", "restore", "pi-cli-jobs", "--dry-run")).out);
    expect(restore).toMatchObject({
      kind: "restore",
      params: { spec: { recoveryPointId: "20261126T050000Z-c1c1c1", dryRun: true } },
    });
    // --include reaches the API, which refuses it for a database source.
    await expect(
      api("restore", "pi-cli-jobs", "--source", "piwardrive-db", "--include", "/a", "--include", "/b"),
    ).rejects.toThrow(/VALIDATION_FAILED.*body\/include.*"piwardrive-db" is postgres/s);
  });

  it("draws a bar only when the total is known", () => {
    const job = { kind: "restore", state: "running" } as const;
    const base = {
      runId: "r",
      jobId: "j",
      phase: "files",
      itemsDone: 0,
      itemsTotal: 0,
      currentItem: "",
      at: "",
    };
    expect(progressLine(job, { ...base, bytesDone: 3 * 1024 ** 3, bytesTotal: 0 })).toBe(
      "restore: files 3.0 GiB",
    );
    expect(progressLine(job, null)).toBe("restore: running");
  });
});
