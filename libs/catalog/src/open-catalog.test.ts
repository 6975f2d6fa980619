import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Provider } from "./catalog-url.js";
import {
  EditedMigrationError,
  IncompleteMigrationError,
  NonEmptyDatabaseError,
  UnknownMigrationError,
} from "./errors.js";
import { migrationsDir, readMigrations } from "./migration-files.js";
import { type Catalog, type OpenedCatalog, openCatalog } from "./open-catalog.js";
import { openCatalogInChild } from "./test-support/open-in-child.js";
import { rawExec } from "./test-support/raw-sql.js";
import { type TestDatabases, testDatabases } from "./test-support/test-databases.js";
import { isUniqueViolation } from "./unique-violation.js";

const providers: Provider[] = ["sqlite", "postgres"];

describe.each(providers)("openCatalog on %s", (provider) => {
  const migrationNames = readMigrations(migrationsDir(provider)).map((migration) => migration.name);
  let databases: TestDatabases;
  const opened: OpenedCatalog[] = [];

  async function open(url: string): Promise<OpenedCatalog> {
    const catalog = await openCatalog({ url });
    opened.push(catalog);
    return catalog;
  }

  async function historyRows(db: Catalog): Promise<number> {
    const [row] = await db.$queryRaw<
      { n: bigint | number }[]
    >`SELECT COUNT(*) AS n FROM "_prisma_migrations"`;
    return Number(row?.n);
  }

  beforeAll(async () => {
    databases = await testDatabases[provider]();
  });

  afterAll(async () => {
    await Promise.all(opened.map((catalog) => catalog.close()));
    await databases?.stop();
  });

  it("migrates a fresh database and the catalog works across relations", async () => {
    const { db, provider: detected, appliedMigrations } = await open(await databases.fresh());
    expect(detected).toBe(provider);
    expect(appliedMigrations).toEqual(migrationNames);

    const host = await db.host.create({
      data: { name: "pi-07", labels: { site: "lab", role: "edge" }, site: "lab", state: "online" },
    });
    await db.agentCertificate.create({
      data: { hostId: host.id, serial: "0a1b", fingerprintSha256: "ab".repeat(32), notAfter: new Date() },
    });
    const repository = await db.repository.create({
      data: {
        name: "fleet",
        kind: "controller",
        location: "fleet-store",
        passwordCiphertext: new Uint8Array([0, 1, 2, 254, 255]),
        passwordKeyId: "key-2024",
      },
    });
    const global = await db.policy.create({
      data: { name: "global", selector: {}, schedule: "0 3 * * *", repositoryId: repository.id },
    });
    const lab = await db.policy.create({
      data: { name: "lab", parentId: global.id, selector: { site: "lab" } },
    });
    const job = await db.job.create({
      data: {
        kind: "backup",
        hostId: host.id,
        policyId: lab.id,
        scheduledFor: new Date("2024-05-01T03:00:00Z"),
        idempotencyKey: "lab/pi-07/2024-05-01T03:00",
        params: { sources: ["piwardrive-db"] },
      },
    });
    const run = await db.jobRun.create({
      data: {
        jobId: job.id,
        hostId: host.id,
        startedAt: new Date(),
        idempotencyKey: "run-1",
        bytesRead: 6n * 2n ** 40n,
      },
    });
    await db.recoveryPoint.create({
      data: {
        hostId: host.id,
        jobRunId: run.id,
        time: new Date("2024-05-01T03:05:00Z"),
        status: "complete",
        versions: { agent: "0.1.0", postgres: "15.6" },
        snapshots: {
          create: [
            snapshotData(host.id, repository.id, "s-pg", "postgres"),
            snapshotData(host.id, repository.id, "s-redis", "redis"),
          ],
        },
      },
    });

    const found = await db.host.findUniqueOrThrow({
      where: { name: "pi-07" },
      include: {
        certificates: true,
        jobs: { include: { policy: { include: { parent: true } }, runs: true } },
        recoveryPoints: { include: { snapshots: { orderBy: { sourceName: "asc" } }, jobRun: true } },
      },
    });
    expect(found.certificates).toHaveLength(1);
    expect(found.jobs[0]?.policy?.parent?.name).toBe("global");
    expect(found.jobs[0]?.runs[0]?.bytesRead).toBe(6n * 2n ** 40n);
    expect(found.recoveryPoints[0]?.jobRun?.idempotencyKey).toBe("run-1");
    expect(found.recoveryPoints[0]?.snapshots.map((snapshot) => snapshot.sourceName)).toEqual([
      "s-pg",
      "s-redis",
    ]);
    const stored = await db.repository.findUniqueOrThrow({ where: { name: "fleet" } });
    expect([...stored.passwordCiphertext]).toEqual([0, 1, 2, 254, 255]);
  });

  it("round-trips JSON values", async () => {
    const { db } = await open(await databases.fresh());
    const facts = {
      os: { id: "debian", version: 12 },
      sources: [{ kind: "postgres", version: "15.6" }, null, true],
      ratio: 0.25,
      note: 'ünïcödé ✓ "quoted"',
    };
    await db.host.create({ data: { name: "pi-json", labels: { tier: "b" }, facts } });
    const host = await db.host.findUniqueOrThrow({ where: { name: "pi-json" } });
    expect(host.facts).toEqual(facts);
    expect(host.labels).toEqual({ tier: "b" });
  });

  it("enforces unique idempotency keys", async () => {
    const { db } = await open(await databases.fresh());
    const host = await db.host.create({ data: { name: "pi-1", labels: {} } });
    const job = {
      kind: "backup",
      hostId: host.id,
      scheduledFor: new Date(),
      idempotencyKey: "k",
      params: {},
    };
    await db.job.create({ data: job });
    const duplicate = await db.job.create({ data: job }).catch((error: unknown) => error);
    expect(isUniqueViolation(duplicate)).toBe(true);

    const { id: jobId } = await db.job.findUniqueOrThrow({ where: { idempotencyKey: "k" } });
    const run = { jobId, hostId: host.id, startedAt: new Date(), idempotencyKey: "replayed" };
    await db.jobRun.create({ data: run });
    const replay = await db.jobRun.create({ data: run }).catch((error: unknown) => error);
    expect(isUniqueViolation(replay)).toBe(true);
    expect(await db.jobRun.count()).toBe(1);
  });

  it("refuses to delete a host that backups refer to", async () => {
    const { db } = await open(await databases.fresh());
    const host = await db.host.create({ data: { name: "pi-2", labels: {} } });
    await db.recoveryPoint.create({
      data: { hostId: host.id, time: new Date(), status: "failed", versions: {} },
    });
    await expect(db.host.delete({ where: { id: host.id } })).rejects.toThrow();
    expect(await db.host.count()).toBe(1);
  });

  it.runIf(provider === "postgres")("keeps the catalog in the schema named by ?schema=", async () => {
    const url = `${await databases.fresh()}?schema=pwdr`;
    const { db, appliedMigrations } = await open(url);
    expect(appliedMigrations).toEqual(migrationNames);
    await db.host.create({ data: { name: "pi-schema", labels: {} } });
    const tables = await db.$queryRaw<{ schemaname: string }[]>`
      SELECT DISTINCT schemaname FROM pg_tables WHERE tablename IN ('Host', '_prisma_migrations')`;
    expect(tables).toEqual([{ schemaname: "pwdr" }]);
    expect((await open(url)).appliedMigrations).toEqual([]);
  });

  it("does nothing when opened again", async () => {
    const url = await databases.fresh();
    const first = await open(url);
    await first.db.auditEvent.create({ data: { actor: "system:test", action: "catalog.open" } });
    const second = await open(url);
    expect(second.appliedMigrations).toEqual([]);
    expect(await second.db.auditEvent.count()).toBe(1);
    expect(await historyRows(second.db)).toBe(migrationNames.length);
  });

  it("refuses a catalog whose applied migration was edited", async () => {
    const url = await databases.fresh();
    const { db } = await open(url);
    const lastName = migrationNames.at(-1);
    await db.$executeRaw`UPDATE "_prisma_migrations" SET "checksum" = ${"0".repeat(64)} WHERE "migration_name" = ${lastName}`;
    const error = await openCatalog({ url }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(EditedMigrationError);
    expect(error).toMatchObject({ code: "CATALOG_MIGRATION_EDITED", migration: lastName });
  });

  it("refuses a catalog migrated by a newer build", async () => {
    const url = await databases.fresh();
    const { db } = await open(url);
    await db.$executeRaw`INSERT INTO "_prisma_migrations"
      ("id", "checksum", "finished_at", "migration_name", "started_at", "applied_steps_count")
      VALUES (${randomUUID()}, ${"f".repeat(64)}, ${new Date()}, ${"29991231000000_future"}, ${new Date()}, 1)`;
    const error = await openCatalog({ url }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(UnknownMigrationError);
    expect(error).toMatchObject({ code: "CATALOG_NEWER_THAN_BUILD", migrations: ["29991231000000_future"] });
  });

  it("refuses a catalog with a migration that never finished", async () => {
    const url = await databases.fresh();
    const { db } = await open(url);
    await db.$executeRaw`UPDATE "_prisma_migrations" SET "finished_at" = NULL`;
    const error = await openCatalog({ url }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(IncompleteMigrationError);
    expect(error).toMatchObject({ code: "CATALOG_MIGRATION_INCOMPLETE" });
  });

  it("refuses a database that holds something else", async () => {
    const url = await databases.fresh();
    await rawExec(url, "CREATE TABLE inventory (id INTEGER PRIMARY KEY)");
    const error = await openCatalog({ url }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(NonEmptyDatabaseError);
    expect(error).toMatchObject({ code: "CATALOG_DATABASE_NOT_EMPTY", tables: ["inventory"] });
  });

  it("migrates once when two controllers start together", async () => {
    const url = await databases.fresh();
    const [a, b] = await Promise.all([open(url), open(url)]);
    expect([...a.appliedMigrations, ...b.appliedMigrations]).toEqual(migrationNames);
    expect(await historyRows(a.db)).toBe(migrationNames.length);
    await b.db.host.create({ data: { name: "pi-race", labels: {} } });
    expect(await a.db.host.count()).toBe(1);
  });

  it("migrates once when two controller processes start together", async () => {
    const url = await databases.fresh();
    const startAt = Date.now() + 1_500;
    const applied = await Promise.all([openCatalogInChild(url, startAt), openCatalogInChild(url, startAt)]);
    expect(applied.flat()).toEqual(migrationNames);
    const { db, appliedMigrations } = await open(url);
    expect(appliedMigrations).toEqual([]);
    expect(await historyRows(db)).toBe(migrationNames.length);
  });
});

function snapshotData(hostId: string, repositoryId: string, sourceName: string, sourceKind: string) {
  return {
    hostId,
    repositoryId,
    snapshotId: randomUUID(),
    sourceName,
    sourceKind,
    time: new Date(),
    sizeBytes: 5_000_000_000n,
    addedBytes: 12_345n,
    fileCount: 1,
    status: "complete",
    stats: { chunks: 42 },
  };
}
