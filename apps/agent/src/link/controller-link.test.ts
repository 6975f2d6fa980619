import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "@pwdr/logging";
import { CONTROLLER_TLS_NAME, JobState, ServiceAction } from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import { createTestCa, makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadIdentity, saveIdentity } from "../agent-identity.js";
import { agentConfigSchema } from "../config/agent-config.js";
import { Daemon } from "../daemon/daemon.js";
import { Journal } from "../daemon/journal.js";
import { ControllerLink } from "./controller-link.js";
import { unconfiguredExecutor } from "./job-executor.js";
import { FakeController } from "./test-support/fake-controller.js";

async function enrolledAgent(dir: string) {
  const pki = await createTestCa();
  const server = await pki.issueServer({ commonName: CONTROLLER_TLS_NAME, dnsNames: [CONTROLLER_TLS_NAME] });
  const controller = new FakeController({ caPem: pki.ca.certPem, identity: server });
  await controller.start();
  const agentDir = join(dir, "agent");
  await saveIdentity(agentDir, {
    hostId: "host-1",
    hostName: "pi-link",
    sessionAddress: `127.0.0.1:${controller.port}`,
    caPem: pki.ca.certPem,
    tls: await pki.issueClient("host-1"),
  });
  return { controller, agentDir };
}

describe("an agent without a config (`pwdr-agent run --data-dir`)", () => {
  it("stays online and answers every job with agent_not_configured, saying how to give it a config", async () => {
    const { controller, agentDir } = await enrolledAgent(makeTempDir("pwdr-link-bare-"));
    const link = new ControllerLink({
      identity: await loadIdentity(agentDir),
      dataDir: agentDir,
      stateDir: agentDir,
      executor: unconfiguredExecutor,
      catchUpGraceMs: 0,
      log: createLogger("test", "error"),
    });
    controller.ackResults = true;
    await link.start();
    try {
      const hello = await controller.waitFor(() => controller.of("hello").at(0)?.value, "hello");
      expect(hello.sources).toEqual([]);
      controller.send({
        case: "job",
        value: { jobId: "j", attempt: 1, spec: { case: "backup", value: {} } },
      });
      const result = await controller.waitFor(() => controller.of("result").at(0)?.value, "the result");
      expect(result).toMatchObject({
        jobId: "j",
        state: JobState.FAILED,
        error: { code: "agent_not_configured", retryable: false },
      });
      expect(result.error?.message).toMatch(/pwdr-agent run --data-dir <dir> -c/);
      await controller.waitFor(
        () => readdirSync(join(agentDir, "outbox")).length === 0 || undefined,
        "the ack",
      );
    } finally {
      await link.stop(0);
      await controller.stop();
    }
  });
});

describe("the daemon linked to a controller (real gRPC over mutual TLS)", () => {
  let dir: string;
  let controller: FakeController;
  let daemon: Daemon;
  let stateDir: string;
  let backupRunId = "";

  beforeAll(async () => {
    dir = makeTempDir("pwdr-link-");
    const agent = await enrolledAgent(dir);
    controller = agent.controller;
    const agentDir = agent.agentDir;
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data/scan-1.json"), JSON.stringify({ aps: [1, 2, 3] }));
    writeFileSync(join(dir, "data/scan-2.json"), "x".repeat(50_000));
    writeFileSync(join(dir, "pw"), "secret\n");
    await Repository.init(new LocalBackend(join(dir, "repo")), "secret", { kdf: { N: 1024, r: 8, p: 1 } });
    stateDir = join(dir, "state");
    const config = agentConfigSchema.parse({
      host: "pi-link",
      stateDir,
      logLevel: "error",
      controller: { dataDir: agentDir, catchUpGraceMs: 60_000 },
      repository: { path: join(dir, "repo"), passwordFile: join(dir, "pw") },
      sources: [{ kind: "files", name: "data", paths: [join(dir, "data")] }],
      // The slow first job of the cancel test.
      services: { type: "commands", stop: "sleep 1", start: "true" },
      retry: { attempts: 1 },
    });
    daemon = new Daemon(config);
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop();
    await controller?.stop();
  });

  it("says hello with its sources and runs a backup job: accepted, progress, result with a recovery point", async () => {
    const [hello] = await controller.waitFor(
      () => controller.of("hello").at(0) && controller.of("hello"),
      "hello",
    );
    expect(hello?.value.sources.map((s) => [s.name, s.location])).toEqual([["data", join(dir, "data")]]);
    expect(hello?.value).toMatchObject({ policyVersion: "", runningJobIds: [], outboxPending: 0 });

    controller.send({
      case: "job",
      value: { jobId: "job-1", attempt: 1, spec: { case: "backup", value: { tags: ["manual"] } } },
    });
    const result = await controller.waitFor(() => controller.of("result").at(0)?.value, "the backup result");
    const accepted = controller.of("accepted");
    expect(accepted.map((a) => a.value.jobId)).toEqual(["job-1"]);
    expect(accepted[0]?.value.runId).toBe(result.runId);
    expect(controller.of("progress").length).toBeGreaterThan(0);
    expect(controller.of("progress")[0]?.value).toMatchObject({
      jobId: "job-1",
      runId: result.runId,
      phase: "data",
    });
    expect(result).toMatchObject({
      jobId: "job-1",
      state: JobState.SUCCEEDED,
      kind: "backup",
      locallyScheduled: false,
      recoveryPoint: {
        sources: [{ source: "data", repository: join(dir, "repo"), state: JobState.SUCCEEDED }],
      },
    });
    const source = result.recoveryPoint?.sources[0];
    expect(source?.snapshotId).toMatch(/^[0-9a-f]{64}$/);
    expect(source?.fileCount).toBe(2n);
    expect(result.bytesRead).toBeGreaterThanOrEqual(50_000n);
    expect(JSON.parse(result.detailsJson).recoveryPoint).toBe(result.recoveryPoint?.recoveryPointId);
    backupRunId = result.runId;
    expect(readdirSync(join(stateDir, "outbox"))).toEqual([backupRunId]);
  });

  it("re-sends an unacknowledged result after every reconnect until the controller acknowledges it", async () => {
    const before = controller.sessions;
    controller.dropSession();
    await controller.waitFor(() => controller.sessions > before, "a reconnect");
    const replayed = await controller.waitFor(
      () => controller.of("result").find((r) => r.session === before + 1),
      "the replayed result",
    );
    expect(replayed.value.runId).toBe(backupRunId);
    expect(controller.of("hello").at(-1)?.value.outboxPending).toBe(1);

    controller.ackResults = true;
    controller.dropSession();
    await controller.waitFor(
      () => controller.of("result").find((r) => r.session === before + 2),
      "a second replay",
    );
    await controller.waitFor(
      () => !existsSync(join(stateDir, "outbox", backupRunId)),
      "the acknowledged file gone",
    );

    controller.dropSession();
    await controller.waitFor(
      () => controller.of("hello").find((h) => h.session === before + 3),
      "a third hello",
    );
    expect(controller.of("hello").at(-1)?.value.outboxPending).toBe(0);
  });

  it("answers the same job again with the stored result and the same run id, without running it", async () => {
    const since = controller.received.length;
    controller.send({
      case: "job",
      value: { jobId: "job-1", attempt: 1, spec: { case: "backup", value: {} } },
    });
    const again = await controller.waitFor(
      () => controller.of("result", since).at(0)?.value,
      "the stored result",
    );
    expect(again.runId).toBe(backupRunId);
    expect(controller.of("accepted", since)).toEqual([]);
    const backups = (await new Journal(stateDir).runs()).filter((r) => r.job === "backup");
    expect(backups.map((r) => r.id)).toEqual([backupRunId]);
  });

  it("drops a cancelled queued job with a CANCELLED result while the running one finishes", async () => {
    const since = controller.received.length;
    controller.send({
      case: "job",
      value: {
        jobId: "svc-1",
        attempt: 1,
        spec: { case: "serviceAction", value: { action: ServiceAction.STOP } },
      },
    });
    controller.send({
      case: "job",
      value: { jobId: "job-2", attempt: 1, spec: { case: "backup", value: {} } },
    });
    controller.send({ case: "cancel", value: { jobId: "job-2", reason: "operator changed their mind" } });
    await controller.waitFor(() => controller.of("result", since).length >= 2 || undefined, "two results");
    const results = controller.of("result", since).map((r) => r.value);
    expect(results.map((r) => [r.jobId, r.state])).toEqual([
      ["job-2", JobState.CANCELLED],
      ["svc-1", JobState.SUCCEEDED],
    ]);
    expect(results[0]?.error?.message).toMatch(/operator changed their mind/);
    expect(controller.of("accepted", since).map((a) => a.value.jobId)).toEqual(["svc-1"]);
  });

  it("follows a policy while the controller is away and replays the locally scheduled results on reconnect", async () => {
    controller.send({
      case: "policyUpdate",
      value: {
        policy: {
          version: "p1",
          schedules: [
            {
              name: "backup",
              cron: "*/2 * * * * *",
              template: { spec: { case: "backup", value: { tags: ["policy"] } } },
            },
          ],
        },
      },
    });
    await controller.waitFor(() => existsSync(join(stateDir, "policy.json")), "the stored policy");
    const port = controller.port;
    await controller.stop();
    const journal = new Journal(stateDir);
    const local = async () =>
      (await journal.runs()).filter((r) => r.slotKey?.startsWith("backup@") && r.status === "ok");
    for (let i = 0; i < 100 && (await local()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    const ran = await local();
    expect(ran.length).toBeGreaterThanOrEqual(2);

    const since = controller.received.length;
    await controller.start();
    expect(controller.port).toBe(port);
    const hello = await controller.waitFor(
      () => controller.of("hello", since).at(0)?.value,
      "the hello after restart",
    );
    expect(hello.policyVersion).toBe("p1");
    expect(hello.outboxPending).toBeGreaterThanOrEqual(2);
    const replayed = await controller.waitFor(() => {
      const got = controller.of("result", since).map((r) => r.value);
      return ran.every((run) => got.some((r) => r.runId === run.id)) ? got : undefined;
    }, "the locally scheduled results");
    for (const run of ran) {
      const result = replayed.find((r) => r.runId === run.id);
      expect(result).toMatchObject({
        locallyScheduled: true,
        slotKey: run.slotKey,
        kind: "backup",
        state: JobState.SUCCEEDED,
      });
      expect(result?.slotKey).toMatch(/^backup@\d{4}-\d\d-\d\dT\d\d:\d\d:\d[02468]\.000Z$/);
    }
    // An empty policy stops the schedule, so the daemon's shutdown has no run to wait for.
    controller.send({ case: "policyUpdate", value: { policy: { version: "p2", schedules: [] } } });
  });
});
