// A failed host as the catalog knows it after its backups: enrolled, a host
// repository, a complete recovery point with one snapshot per source.
import type { ApiTokenRole, RecoveryPoint } from "@pwdr/catalog";
import { createLogger } from "@pwdr/logging";
import { makeTempDir } from "@pwdr/test-harness";
import { ApiClient } from "../../api-client/api-client.js";
import { createApiToken } from "../../api-tokens.js";
import { type RunningController, startController } from "../../controller-server.js";
import { type Enrolled, enrollHost, FakeAgent, type FakeAgentOptions, SourceKind } from "./fake-agent.js";

export const POINT_SOURCES = [
  { name: "db", kind: "postgres", sizeBytes: 4_000_000 },
  { name: "cache", kind: "redis", sizeBytes: 1_000_000 },
  { name: "etc", kind: "config", sizeBytes: 20_000 },
  { name: "data", kind: "files", sizeBytes: 2_000_000 },
];
export const POINT_VERSIONS = { db: "16.4", cache: "7.2.4" };
/** What a replacement with the same servers discovers. */
export const MATCHING_SOURCES = [
  { name: "db", kind: SourceKind.POSTGRES, version: "16.6" },
  { name: "cache", kind: SourceKind.REDIS, version: "7.2.4" },
];

export interface FailedHost extends Enrolled {
  point: RecoveryPoint;
}

export async function seedFailedHost(
  controller: RunningController,
  hostname: string,
  ageMs = 3_600_000,
): Promise<FailedHost> {
  const enrolled = await enrollHost(controller, hostname);
  const { db } = controller;
  await controller.repositories.ensure(enrolled.hostId);
  const repository = await db.repository.findUniqueOrThrow({ where: { name: enrolled.hostId } });
  const time = new Date(Date.now() - ageMs);
  const point = await db.recoveryPoint.create({
    data: { hostId: enrolled.hostId, time, status: "complete", versions: POINT_VERSIONS },
  });
  for (const [i, s] of POINT_SOURCES.entries()) {
    await db.snapshot.create({
      data: {
        repositoryId: repository.id,
        snapshotId: `${point.id}-${i}`,
        recoveryPointId: point.id,
        hostId: enrolled.hostId,
        sourceName: s.name,
        sourceKind: s.kind,
        time,
        sizeBytes: BigInt(s.sizeBytes),
        addedBytes: BigInt(s.sizeBytes),
        fileCount: 3,
        status: "complete",
      },
    });
  }
  return { ...enrolled, point };
}

/** A newly enrolled replacement agent, connected, with matching servers unless told otherwise. */
export async function replacementAgent(
  controller: RunningController,
  hostname: string,
  options: Partial<FakeAgentOptions> = {},
): Promise<FakeAgent> {
  const agent = new FakeAgent(await enrollHost(controller, hostname), {
    hostname,
    sources: MATCHING_SOURCES,
    ...options,
  });
  agent.connect(controller);
  await until(() => controller.sessions.get(agent.enrolled.hostId) !== undefined, `${hostname} online`);
  return agent;
}

export async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A controller for DR tests: the scheduler ticks only when a test calls
 * tick() (so it creates exactly the jobs and drills the test expects), DR
 * runs advance every 200 ms, new repositories use a cheap key derivation.
 */
export async function startDrController(prefix: string): Promise<RunningController> {
  return startController({
    dataDir: await makeTempDir(prefix),
    schedulerIntervalMs: 3_600_000,
    drIntervalMs: 200,
    repositoryKdf: { N: 1024, r: 8, p: 1 },
    log: createLogger("controller", "error"),
  });
}

/** A new API token of `role` and a client that uses it. */
export async function apiClientAs(
  controller: RunningController,
  role: ApiTokenRole,
  name: string = role,
): Promise<{ client: ApiClient; token: string }> {
  const { token } = await createApiToken(controller.db, { name, role });
  return {
    client: new ApiClient({ url: controller.apiUrl, token, caPem: controller.pki.ca.certPem }),
    token,
  };
}
