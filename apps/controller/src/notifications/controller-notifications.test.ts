import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createLogger } from "@pwdr/logging";
import { JobState } from "@pwdr/protocol";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningController, startController } from "../controller-server.js";
import { type AgentLink, connectAgent } from "../jobs/test-support/agent-link.js";
import { createPolicy } from "../policies.js";
import { CERTIFICATE_EXPIRING_ACTION, CertificateExpiryWatch } from "./certificate-expiry.js";
import type { ControllerEvent } from "./controller-events.js";
import { NOTIFICATIONS_FILE } from "./notifications.js";
import { startWebhookReceiver, type WebhookReceiver } from "./test-support/webhook-receiver.js";

const DAY = 86_400_000;

describe("notifications of a running controller", () => {
  let receiver: WebhookReceiver;
  let controller: RunningController;
  let agent: AgentLink;
  const bodiesOf = (type: string) =>
    receiver.requests.filter((r) => r.path === "/all" && r.body.type === type).map((r) => r.body);

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    const dataDir = await makeTempDir("pwdr-notify-controller-");
    await writeFile(
      join(dataDir, NOTIFICATIONS_FILE),
      JSON.stringify({
        webhooks: [{ name: "all", url: receiver.url("/all") }],
        retry: { attempts: 5, initialDelayMs: 5, maxDelayMs: 50 },
      }),
    );
    controller = await startController({
      dataDir,
      heartbeatIntervalMs: 60_000,
      schedulerIntervalMs: 200,
      drIntervalMs: 200,
      log: createLogger("controller", "error"),
    });
    agent = await connectAgent(controller, "pi-notify");
  });

  afterAll(async () => {
    agent?.close();
    await controller?.close();
    await receiver?.close();
  });

  async function failJob(key: string, runId: string, times = 1) {
    const job = await controller.db.job.create({
      data: {
        kind: "backup",
        hostId: agent.hostId,
        scheduledFor: new Date(),
        state: "dispatched",
        attempt: 1,
        createdBy: "token:test",
        idempotencyKey: key,
        params: { spec: {} },
      },
    });
    const result = {
      jobId: job.id,
      runId,
      state: JobState.FAILED,
      kind: "backup",
      startedAt: timestampFromDate(new Date(Date.now() - 60_000)),
      finishedAt: timestampFromDate(new Date()),
      error: { code: "repository_unreachable", message: "storage server refused", retryable: false },
    };
    for (let i = 0; i < times; i++) agent.send({ case: "result", value: result });
    return job;
  }

  it("posts job.failed once for a failed result, however often the agent replays it", async () => {
    const job = await failJob("op/notify-1", "run-notify-1", 3);
    // Deliveries go out in order: once the second failure is in, a repeat of the first would be too.
    await failJob("op/notify-2", "run-notify-2");
    await receiver.received("/all", 2);
    const failed = bodiesOf("job.failed");
    const run = await controller.db.jobRun.findUniqueOrThrow({ where: { idempotencyKey: "run-notify-1" } });
    expect(failed.map((b) => b.id)).toEqual([
      `job.failed/${run.id}`,
      expect.stringMatching(/^job\.failed\//),
    ]);
    expect(failed[0]).toMatchObject({
      severity: "critical",
      host: { id: agent.hostId, name: agent.hostName },
      job: { id: job.id, kind: "backup", attempt: 1, createdBy: "token:test" },
      error: { code: "repository_unreachable", message: "storage server refused" },
    });
  });

  it("posts rpo.breached once when the scheduler flags a host that missed its RPO", async () => {
    await createPolicy(controller.db, { name: "tight-rpo", scheduling: { rpo: "1s" } });
    const host = await controller.db.host.findUniqueOrThrow({ where: { id: agent.hostId } });
    await receiver.received("/all", 3);
    const [breach] = bodiesOf("rpo.breached");
    const flagged = await controller.db.host.findUniqueOrThrow({ where: { id: host.id } });
    expect(flagged.rpoBreachedSince).not.toBeNull();
    expect(breach).toMatchObject({
      id: `rpo.breached/${host.id}/${flagged.rpoBreachedSince?.toISOString()}`,
      host: { name: agent.hostName },
      rpo: "1s",
      lastBackupAt: null,
      breachedSince: flagged.rpoBreachedSince?.toISOString(),
    });
  });

  it("posts dr.run.started and dr.run.finished for a DR run", async () => {
    const before = receiver.requests.length;
    const run = await controller.db.drRun.create({
      data: {
        kind: "plan",
        state: "running",
        plan: { kind: "plan", hosts: [{ id: agent.hostId, name: agent.hostName }] },
        createdBy: "token:test",
        startedAt: new Date(),
        // An assessment only host restores have: this run's one step fails, and the run with it.
        steps: {
          create: [
            { position: 0, name: "assess", action: "assess", params: {}, dependsOn: [], timeoutMs: 60_000 },
          ],
        },
      },
    });
    controller.dr.wake();
    await receiver.received("/all", before + 2);
    const [started] = bodiesOf("dr.run.started");
    const [finished] = bodiesOf("dr.run.finished");
    expect(started).toMatchObject({
      id: `dr.run.started/${run.id}`,
      severity: "info",
      run: { id: run.id, kind: "plan", state: "running", createdBy: "token:test" },
      hosts: [{ id: agent.hostId, name: agent.hostName }],
    });
    expect(finished).toMatchObject({
      id: `dr.run.finished/${run.id}`,
      severity: "critical",
      run: {
        id: run.id,
        state: "failed",
        reason: expect.stringContaining("step assess failed"),
        rtoMs: expect.any(Number),
      },
    });
    // The scheduler swept the breached host many times meanwhile: still one message for its breach.
    expect(bodiesOf("rpo.breached")).toHaveLength(1);
  });
});

describe("agent certificates near expiry", () => {
  let controller: RunningController;

  beforeAll(async () => {
    controller = await startController({
      dataDir: await makeTempDir("pwdr-notify-certs-"),
      heartbeatIntervalMs: 60_000,
      log: createLogger("controller", "error"),
    });
  });

  afterAll(async () => {
    await controller?.close();
  });

  it("reports a host's newest certificate once, also after a restart, and not a replaced or revoked one", async () => {
    const { db } = controller;
    const now = new Date();
    const host = async (name: string, certs: { daysLeft: number; revoked?: boolean }[]) => {
      const row = await db.host.create({ data: { name, labels: {}, state: "online" } });
      for (const [i, c] of certs.entries()) {
        await db.agentCertificate.create({
          data: {
            hostId: row.id,
            serial: `${name}-${i}`,
            fingerprintSha256: `${name}-${i}`.padEnd(64, "0"),
            notAfter: new Date(now.getTime() + c.daysLeft * DAY),
            ...(c.revoked ? { revokedAt: now } : {}),
          },
        });
      }
      return row;
    };
    const stale = await host("pi-stale", [{ daysLeft: 5 }]);
    await host("pi-renewed", [{ daysLeft: 5 }, { daysLeft: 85 }]);
    await host("pi-revoked", [{ daysLeft: 3, revoked: true }]);
    await host("pi-fine", [{ daysLeft: 40 }]);

    const heard: ControllerEvent[] = [];
    const watch = () =>
      new CertificateExpiryWatch({
        db,
        events: { publish: (e) => heard.push(e) },
        log: createLogger("test", "error"),
        warningMs: 14 * DAY,
      });
    expect(await watch().sweep(now)).toBe(1);
    expect(heard).toEqual([
      expect.objectContaining({
        type: "certificate.expiring",
        host: { id: stale.id, name: "pi-stale" },
        serial: "pi-stale-0",
      }),
    ]);
    expect(await watch().sweep(now)).toBe(0);
    expect(await watch().sweep(new Date(now.getTime() + DAY))).toBe(0);
    expect(heard).toHaveLength(1);
    const audit = await db.auditEvent.findMany({ where: { action: CERTIFICATE_EXPIRING_ACTION } });
    expect(audit.map((a) => a.actor)).toEqual(["system:notifier"]);
  });
});
