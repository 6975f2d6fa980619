// The scheduler against a real controller: agents on real mutual-TLS sessions.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import { createRecoveryPoint, hostDefinitionSchema, listRecoveryPoints } from "@pwdr/host";
import { createLogger } from "@pwdr/logging";
import type { ControllerMessage, TlsIdentity } from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../api-client/api-client.js";
import { createApiToken } from "../api-tokens.js";
import { type RunningController, startController } from "../controller-server.js";
import { createPolicy } from "../policies.js";
import { enrollTestHost, openTestSession } from "../test-support/test-agent.js";
import { jitterSeconds } from "./slots.js";

let controller: RunningController;
let api: ApiClient;

beforeAll(async () => {
  controller = await startController({
    dataDir: await makeTempDir("pwdr-scheduling-"),
    // Ticks are driven by the tests; dispatch still happens at once on Hello and dispatchSoon().
    schedulerIntervalMs: 3_600_000,
    repositoryKdf: { N: 1024, r: 8, p: 1 },
    log: createLogger("controller", "error"),
  });
  const token = (await createApiToken(controller.db, { name: "admin", role: "admin" })).token;
  api = new ApiClient({ url: controller.apiUrl, token, caPem: controller.pki.ca.certPem });
});

afterAll(async () => {
  await controller?.close();
});

function enroll(hostname: string, labels: Record<string, string>) {
  return enrollTestHost(controller, hostname, labels);
}

/** A minimal agent: says Hello with the given policy version and running jobs, records what it gets. */
function agent(identity: TlsIdentity, hello: { policyVersion?: string; runningJobIds?: string[] } = {}) {
  const { client, stream, received, ended } = openTestSession(controller, identity);
  stream.write({ body: { case: "hello", value: { facts: { hostname: "agent" }, ...hello } } });
  const of = <C extends NonNullable<ControllerMessage["body"]["case"]>>(kind: C) =>
    received.flatMap((m) =>
      m.body.case === kind ? [m.body.value as Extract<ControllerMessage["body"], { case: C }>["value"]] : [],
    );
  return { client, stream, received, ended, of, close: () => client.grpcClient.close() };
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const jobState = async (id: string) => (await controller.db.job.findUniqueOrThrow({ where: { id } })).state;

describe("policies over the session", () => {
  it("sends the effective policy after Welcome when the agent's version differs, and pushes changes", async () => {
    const { hostId, identity } = await enroll("pi-policy", { role: "policy-test" });
    await createPolicy(controller.db, {
      name: "policy-test",
      selector: { role: "policy-test" },
      schedule: "15 2 * * *",
      sources: [{ name: "db", kind: "postgres" }],
      verification: { checkSchedule: "0 4 * * 0", readDataSubset: "5%" },
      scheduling: { jitter: "1h" },
    });
    const first = agent(identity);
    await until(() => first.of("policyUpdate").length === 1, "policy update");
    expect(first.received[0]?.body.case).toBe("welcome");
    const policy = first.of("policyUpdate")[0]?.policy;
    expect(policy?.schedules.map((s) => [s.name, s.cron, s.jitterSeconds, s.catchUp])).toEqual([
      ["backup", "15 2 * * *", jitterSeconds(hostId, "backup", 3_600_000), true],
      ["check", "0 4 * * 0", jitterSeconds(hostId, "check", 3_600_000), true],
    ]);
    expect(policy?.schedules[0]?.template?.spec).toMatchObject({
      case: "backup",
      value: { sources: ["db"] },
    });
    expect(policy?.schedules[1]?.template?.spec).toMatchObject({
      case: "verify",
      value: { readDataSubset: "5%" },
    });
    const effective = await api.get<{ version: string; policy: { name: string } }>(`/hosts/${hostId}/policy`);
    expect(effective).toMatchObject({ version: policy?.version, policy: { name: "policy-test" } });
    first.stream.end();
    await first.ended;
    first.close();

    // An agent that holds the current version gets no update.
    const second = agent(identity, { policyVersion: policy?.version ?? "" });
    await until(() => second.of("welcome").length === 1, "welcome");
    // A host-specific child through the API: the connected agent gets it at once.
    await api.post("/policies", {
      name: "pi-policy-hourly",
      parentId: (await controller.db.policy.findUniqueOrThrow({ where: { name: "policy-test" } })).id,
      selector: { "pwdr.io/host": "pi-policy" },
      schedule: "0 * * * *",
    });
    await until(() => second.of("policyUpdate").length === 1, "pushed policy update");
    const pushed = second.of("policyUpdate")[0]?.policy;
    expect(pushed?.version).not.toBe(policy?.version);
    expect(pushed?.schedules.map((s) => s.cron)).toEqual(["0 * * * *", "0 4 * * 0"]);
    second.stream.end();
    await second.ended;
    second.close();
  });
});

describe("dispatch over the session", () => {
  it("sends a due job at once, re-queues it when the agent's Hello does not list it, and after a lost session", async () => {
    const { hostId, identity } = await enroll("pi-dispatch", { role: "dispatch-test" });
    const first = agent(identity);
    await until(() => first.of("welcome").length === 1, "welcome");
    const slot = new Date(Date.now() - 60_000);
    const job = await controller.db.job.create({
      data: {
        kind: "backup",
        hostId,
        scheduledFor: slot,
        schedule: "backup",
        idempotencyKey: `${hostId}/backup@${slot.toISOString()}`,
        params: { spec: { sources: ["db"] }, timeoutMs: 3_600_000 },
      },
    });
    controller.scheduler.dispatchSoon();
    await until(() => first.of("job").length === 1, "job");
    const sent = first.of("job")[0];
    expect(sent).toMatchObject({
      jobId: job.id,
      attempt: 1,
      slotKey: `backup@${slot.toISOString()}`,
      spec: { case: "backup", value: { sources: ["db"] } },
    });
    const deadline = sent?.deadline ? timestampMs(sent.deadline) : 0;
    expect(deadline).toBeGreaterThan(Date.now());
    expect(await controller.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      state: "dispatched",
      attempt: 1,
    });

    // The agent restarts without the job: its Hello lists no running job, so the job goes out
    // again under the same attempt (a higher one would make the agent run it a second time).
    const second = agent(identity, { runningJobIds: [] });
    expect(await first.ended).toMatchObject({ code: grpc.status.ABORTED });
    first.close();
    await until(() => second.of("job").length === 1, "job sent again");
    expect(second.of("job")[0]).toMatchObject({ jobId: job.id, attempt: 1 });

    // The session drops before the agent accepted it: back to pending, waiting for the host.
    second.stream.end();
    await second.ended;
    second.close();
    await until(async () => (await jobState(job.id)) === "pending", "re-queued job");
    expect(await controller.db.job.findUniqueOrThrow({ where: { id: job.id } })).toMatchObject({
      attempt: 0,
    });

    // A Hello that lists the job as running leaves it alone.
    await controller.db.job.update({ where: { id: job.id }, data: { state: "running" } });
    const third = agent(identity, { runningJobIds: [job.id] });
    await until(() => third.of("welcome").length === 1, "welcome");
    await controller.scheduler.dispatchNow();
    expect(await jobState(job.id)).toBe("running");
    expect(third.of("job")).toEqual([]);
    third.stream.end();
    await third.ended;
    third.close();
  });
});

describe("prune on the controller", () => {
  it("forgets per the retention in the host repository and deletes the catalog rows of what went", async () => {
    const { hostId } = await enroll("pi-prune", { role: "prune-test" });
    await createPolicy(controller.db, {
      name: "prune-test",
      selector: { role: "prune-test" },
      retention: { keepLast: 1 },
      scheduling: { pruneSchedule: "0 3 * * *" },
    });
    const root = await makeTempDir("pwdr-prune-src-");
    mkdirSync(join(root, "data"));
    writeFileSync(join(root, "data/scan.json"), "{}");
    const password = await controller.repositories.ensure(hostId);
    const repo = await Repository.open(
      new LocalBackend(controller.repositories.directoryOf(hostId)),
      password,
    );
    const definition = hostDefinitionSchema.parse({
      host: "pi-prune",
      sources: [{ kind: "files", name: "data", paths: [join(root, "data")] }],
    });
    const repositoryId = (await controller.db.repository.findUniqueOrThrow({ where: { name: hostId } })).id;
    const points = [];
    for (const day of [20, 21]) {
      const point = await createRecoveryPoint(repo, definition, {
        now: () => new Date(Date.UTC(2026, 10, day, 2)),
      });
      points.push(point);
      await controller.db.recoveryPoint.create({
        data: { id: point.id, hostId, time: new Date(point.startedAt), status: point.status, versions: {} },
      });
      await controller.db.snapshot.create({
        data: {
          repositoryId,
          snapshotId: point.sources[0]?.snapshotId ?? "",
          recoveryPointId: point.id,
          hostId,
          sourceName: "data",
          sourceKind: "files",
          time: new Date(point.startedAt),
          sizeBytes: 2n,
          addedBytes: 2n,
          fileCount: 1,
          status: "complete",
        },
      });
    }
    await repo.close();

    const slot = new Date(Date.now() - 1_000);
    const job = await controller.db.job.create({
      data: {
        kind: "prune",
        hostId,
        scheduledFor: slot,
        schedule: "prune",
        idempotencyKey: `${hostId}/prune@${slot.toISOString()}`,
        params: { spec: { retention: { keepLast: 1 } } },
      },
    });
    // No agent session: the controller runs it itself.
    controller.scheduler.dispatchSoon();
    await until(async () => (await jobState(job.id)) === "succeeded", "prune to finish");

    const [kept, forgotten] = [points[1], points[0]];
    const rows = await controller.db.recoveryPoint.findMany({ where: { hostId } });
    expect(rows.map((r) => r.id)).toEqual([kept?.id]);
    const snapshots = await controller.db.snapshot.findMany({ where: { hostId } });
    expect(snapshots.map((s) => s.recoveryPointId)).toEqual([kept?.id]);
    const run = await controller.db.jobRun.findFirstOrThrow({ where: { jobId: job.id } });
    expect(run).toMatchObject({ state: "succeeded", hostId });
    expect(run.details).toMatchObject({ pointsForgotten: [forgotten?.id] });
    const reopened = await Repository.open(
      new LocalBackend(controller.repositories.directoryOf(hostId)),
      password,
    );
    expect((await listRecoveryPoints(reopened)).map((p) => p.id)).toEqual([kept?.id]);
    await reopened.close();
  });
});
