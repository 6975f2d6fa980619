import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, openApiFixture } from "../api/test-support/api-fixture.js";

const DAY = 86_400_000;

describe("the dashboard's read routes: fleet overview and snapshot trees", () => {
  let api: ApiFixture;
  let hostId: string;
  let localSnapshotId: string;

  beforeAll(async () => {
    api = await openApiFixture("sqlite");
    const now = Date.now();
    const host = await api.db.host.create({
      data: {
        name: "pi-north-01",
        labels: { site: "north" },
        state: "online",
        rpoBreachedSince: new Date(now - DAY),
        certificates: {
          create: [
            // 90 days, 80 of them gone: renewal (due at 60) did not happen.
            {
              serial: "01",
              fingerprintSha256: "a".repeat(64),
              createdAt: new Date(now - 80 * DAY),
              notAfter: new Date(now + 10 * DAY),
            },
            {
              serial: "02",
              fingerprintSha256: "b".repeat(64),
              createdAt: new Date(now - 200 * DAY),
              notAfter: new Date(now - 110 * DAY),
            },
          ],
        },
      },
    });
    hostId = host.id;
    const repository = await api.db.repository.create({
      data: {
        name: `${host.id}/usb-disk`,
        kind: "local",
        location: "/mnt/usb",
        passwordCiphertext: new Uint8Array(),
        passwordKeyId: "agent",
      },
    });
    const snapshot = (sourceName: string, sourceKind: string, status: string, daysAgo: number, stats = {}) =>
      api.db.snapshot.create({
        data: {
          repositoryId: repository.id,
          snapshotId: `${sourceName}-${daysAgo}`,
          hostId,
          sourceName,
          sourceKind,
          time: new Date(now - daysAgo * DAY),
          sizeBytes: 1n,
          addedBytes: 1n,
          fileCount: 1,
          status,
          stats,
        },
      });
    localSnapshotId = (await snapshot("data", "files", "complete", 2)).id;
    await snapshot("data", "files", "failed", 1);
    await snapshot("config", "config", "complete", 3, { counts: { "certificates:expiring": 2 } });
  });

  afterAll(async () => {
    await api?.close();
  });

  it("shows per host the last success of each source, the RPO breach and certificate warnings", async () => {
    const response = await api.call("viewer", { method: "GET", url: "/api/v1/fleet/overview" });
    expect(response.statusCode).toBe(200);
    const [host] = response.json().hosts;
    expect(host).toMatchObject({
      name: "pi-north-01",
      state: "online",
      agentCertificate: { expiringSoon: true },
      expiringConfigCertificates: 2,
    });
    expect(host.rpoBreachedSince).not.toBeNull();
    // The failed snapshot of yesterday is not a success: data's last success is two days old.
    expect(host.sources.map((s: { name: string; lastSuccessAt: string }) => s.name)).toEqual([
      "config",
      "data",
    ]);
    const data = host.sources.find((s: { name: string }) => s.name === "data");
    expect(Date.now() - Date.parse(data.lastSuccessAt)).toBeGreaterThan(1.9 * DAY);
  });

  it("explains that a snapshot in an agent's own repository cannot be listed on the controller", async () => {
    const response = await api.call("viewer", {
      method: "GET",
      url: `/api/v1/snapshots/${localSnapshotId}/tree`,
    });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.message).toContain("pi-north-01's own repository");
    expect(response.json().error.message).toContain("pwdr-agent ls");
  });

  it("answers 404 for an unknown snapshot and 401 without a token", async () => {
    const unknown = await api.call("viewer", { method: "GET", url: "/api/v1/snapshots/nope/tree" });
    expect(unknown.statusCode).toBe(404);
    const anonymous = await api.call("anonymous", {
      method: "GET",
      url: `/api/v1/snapshots/${localSnapshotId}/tree`,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
