import { mkdir, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { openCatalog } from "@pwdr/catalog";
import { createRecoveryPoint, hostDefinitionSchema, type RecoveryPoint } from "@pwdr/host";
import { createLogger } from "@pwdr/logging";
import { JobState, SourceKind } from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { controllerCli } from "../cli.js";
import { type RunningController, startController } from "../controller-server.js";
import { sealedPasswordDir } from "../fleet-storage/sealed-password-file.js";
import { type AgentLink, connectAgent, until } from "../jobs/test-support/agent-link.js";

const FAST_KDF = { N: 1024, r: 8, p: 1 };
const KINDS = {
  postgres: SourceKind.POSTGRES,
  redis: SourceKind.REDIS,
  config: SourceKind.CONFIG,
  files: SourceKind.FILES,
};

/** The JobResult an agent sends for a backup run that produced `point`. */
function resultOf(point: RecoveryPoint, hostId: string) {
  const started = timestampFromDate(new Date(point.startedAt));
  return {
    jobId: "",
    runId: `run-${point.id}`,
    state: JobState.SUCCEEDED,
    kind: "backup",
    locallyScheduled: true,
    startedAt: started,
    finishedAt: timestampFromDate(new Date(point.finishedAt)),
    recoveryPoint: {
      recoveryPointId: point.id,
      time: started,
      sources: point.sources.map((s) => ({
        source: s.name,
        kind: KINDS[s.kind],
        state: s.status === "ok" ? JobState.SUCCEEDED : JobState.FAILED,
        repository: hostId,
        snapshotId: s.snapshotId ?? "",
        sizeBytes: BigInt(s.bytes ?? 0),
        addedBytes: BigInt(s.addedBytes ?? 0),
        fileCount: BigInt(s.files ?? 0),
        counts: Object.fromEntries(Object.entries(s.counts ?? {}).map(([k, v]) => [k, BigInt(v)])),
      })),
    },
  };
}

type Db = RunningController["db"];

/** The rows a rebuild must bring back, without the ids and times the catalog itself assigns. */
async function catalogRows(db: Db, hostId: string) {
  const points = await db.recoveryPoint.findMany({ where: { hostId }, orderBy: { id: "asc" } });
  const snapshots = await db.snapshot.findMany({
    where: { hostId },
    orderBy: { snapshotId: "asc" },
    include: { repository: { select: { name: true } } },
  });
  const repository = await db.repository.findUniqueOrThrow({ where: { name: hostId } });
  return {
    points: points.map((p) => ({ id: p.id, hostId: p.hostId, time: p.time, status: p.status })),
    snapshots: snapshots.map(({ id, createdAt, repositoryId, ...rest }) => rest),
    repository: {
      kind: repository.kind,
      location: repository.location,
      keyId: repository.passwordKeyId,
      ciphertext: Buffer.from(repository.passwordCiphertext).toString("base64"),
    },
  };
}

describe("pwdr-controller catalog rebuild", () => {
  let dataDir: string;
  let controller: RunningController;
  let agent: AgentLink;
  let hostId: string;
  let password: string;
  let before: Awaited<ReturnType<typeof catalogRows>>;

  beforeAll(async () => {
    dataDir = await makeTempDir("pwdr-rebuild-");
    controller = await startController({
      dataDir,
      repositoryKdf: FAST_KDF,
      log: createLogger("controller", "error"),
    });
    agent = await connectAgent(controller, "pi-rebuild");
    hostId = agent.hostId;

    const scans = await makeTempDir("pwdr-rebuild-scans-");
    await writeFile(join(scans, "a.csv"), "ssid,bssid\nlab,00:11\n");
    const definition = hostDefinitionSchema.parse({
      host: "pi-rebuild",
      sources: [
        { kind: "files", name: "scans", paths: [scans] },
        { kind: "config", name: "etc", paths: [scans] },
      ],
    });
    password = await controller.repositories.ensure(hostId);
    const repo = await Repository.open(
      new LocalBackend(controller.repositories.directoryOf(hostId)),
      password,
    );
    const points: RecoveryPoint[] = [];
    try {
      points.push(await createRecoveryPoint(repo, definition));
      await writeFile(join(scans, "b.csv"), "ssid\nfield\n");
      points.push(await createRecoveryPoint(repo, definition));
    } finally {
      await repo.close();
    }
    for (const point of points) agent.send({ case: "result", value: resultOf(point, hostId) });
    await until(() => agent.received.filter((m) => m.body.case === "resultAck").length === 2, "both acks");
    before = await catalogRows(controller.db, hostId);
    agent.close();
    await controller.close();
  });

  afterAll(async () => {
    agent?.close();
  });

  async function rebuild(): Promise<{ created: Record<string, number>; skipped: { name: string }[] }> {
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    try {
      await controllerCli().parseAsync(["node", "x", "catalog", "rebuild", "--data-dir", dataDir, "--json"], {
        from: "node",
      });
    } finally {
      write.mockRestore();
    }
    return JSON.parse(out);
  }

  it("keeps a 0600 copy of each host repository's sealed password beside the repositories", async () => {
    const file = await stat(join(sealedPasswordDir(dataDir), `${hostId}.sealed`));
    expect(file.mode & 0o777).toBe(0o600);
    expect(before.points).toHaveLength(2);
    expect(before.snapshots).toHaveLength(4);
  });

  it("brings back hosts, repositories, recovery points and snapshots after catalog.db is lost, once", async () => {
    for (const suffix of ["", "-wal", "-shm", "-journal"])
      await rm(join(dataDir, `catalog.db${suffix}`), { force: true });

    const first = await rebuild();
    expect(first.created).toEqual({ hosts: 1, repositories: 1, recoveryPoints: 2, snapshots: 4 });
    expect(first.skipped).toEqual([]);
    const catalog = await openCatalog({ url: `file:${join(dataDir, "catalog.db")}` });
    try {
      expect(await catalogRows(catalog.db, hostId)).toEqual(before);
      const host = await catalog.db.host.findUniqueOrThrow({ where: { id: hostId } });
      expect(host).toMatchObject({ name: "pi-rebuild", state: "offline", labels: {} });
      const rowsAfterFirst = await catalog.db.snapshot.findMany({ orderBy: { id: "asc" } });

      const second = await rebuild();
      expect(second.created).toEqual({ hosts: 0, repositories: 0, recoveryPoints: 0, snapshots: 0 });
      expect(await catalog.db.snapshot.findMany({ orderBy: { id: "asc" } })).toEqual(rowsAfterFirst);
      expect(await catalog.db.host.count()).toBe(1);
    } finally {
      await catalog.close();
    }

    const restarted = await startController({
      dataDir,
      repositoryKdf: FAST_KDF,
      log: createLogger("controller", "error"),
    });
    try {
      expect(await restarted.repositories.ensure(hostId)).toBe(password);
    } finally {
      await restarted.close();
    }
  });

  it("skips a repository whose password copy is missing, says why and fails the command", async () => {
    await mkdir(join(dataDir, "repos", "orphan"), { recursive: true });
    try {
      const report = await rebuild();
      expect(report.skipped).toEqual([
        { name: "orphan", reason: expect.stringContaining("no sealed password") },
      ]);
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = 0;
      await rm(join(dataDir, "repos", "orphan"), { recursive: true });
    }
  });
});
