import { startPostgres, startRedis, stopAll } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostDefinition, hostDefinitionSchema } from "../definition/host-definition.js";
import type { RecoveryPoint } from "../recovery-point/recovery-point.js";
import { checkServerVersions } from "./check-versions.js";
import { replacementMapping } from "./replacement-layout.js";
import { ReplacementRefusal } from "./replacement-refusal.js";

afterAll(stopAll);

let target: HostDefinition;

beforeAll(async () => {
  const [pg, redis] = await Promise.all([startPostgres(), startRedis()]);
  target = hostDefinitionSchema.parse({
    host: "pi-b",
    sources: [
      { kind: "postgres", name: "db", connection: { port: pg.port }, databases: ["shared", "pw_b"] },
      { kind: "redis", name: "cache", mode: "logical", connection: { port: redis.port } },
      { kind: "config", name: "config", paths: ["/srv/b/etc", "/srv/b/tls"] },
    ],
  });
}, 120_000);

/** A recovery point of host A as the repository records it (the servers' versions as given). */
function pointOf(versions: { db: string; cache: string }): RecoveryPoint {
  const outcome = { status: "ok" as const, durationMs: 1, warnings: [] };
  return {
    format: 1,
    id: "20261126T120000Z-abcdef",
    host: "pi-a",
    startedAt: "2026-11-26T12:00:00Z",
    finishedAt: "2026-11-26T12:01:00Z",
    status: "complete",
    sources: [
      {
        ...outcome,
        name: "db",
        kind: "postgres",
        version: versions.db,
        definition: target.sources[0] && { ...target.sources[0], databases: ["shared", "pw_a"] },
      } as RecoveryPoint["sources"][number],
      {
        ...outcome,
        name: "cache",
        kind: "redis",
        version: versions.cache,
        definition: target.sources[1],
      } as RecoveryPoint["sources"][number],
      {
        ...outcome,
        name: "config",
        kind: "config",
        definition: { ...target.sources[2], paths: ["/etc/pw", "/srv/b/tls"] },
      } as RecoveryPoint["sources"][number],
    ],
  };
}

describe("a replacement host's layout", () => {
  it("pairs the point's databases and paths with its own: shared names stay, the rest in order", () => {
    expect(replacementMapping(pointOf({ db: "16.1", cache: "7.0.0" }), target, undefined)).toEqual({
      databases: { pw_a: "pw_b" },
      paths: { "/etc/pw": "/srv/b/etc" },
    });
  });

  it("refuses a source it lacks, by name and kind, unless the restore leaves it out", () => {
    const point = pointOf({ db: "16.1", cache: "7.0.0" });
    const smaller = { ...target, sources: target.sources.filter((s) => s.name !== "cache") };
    expect(() => replacementMapping(point, smaller, undefined)).toThrow(ReplacementRefusal);
    expect(() => replacementMapping(point, smaller, undefined)).toThrow(
      /has cache \(redis\), which this host/,
    );
    expect(replacementMapping(point, smaller, ["db"]).databases).toEqual({ pw_a: "pw_b" });
  });

  it("refuses paths it cannot pair without guessing", () => {
    const point = pointOf({ db: "16.1", cache: "7.0.0" });
    const onePath = {
      ...target,
      sources: target.sources.map((s) => (s.kind === "config" ? { ...s, paths: ["/srv/b/etc"] } : s)),
    };
    expect(() => replacementMapping(point, onePath, ["config"])).toThrow(
      /cannot tell where \/etc\/pw, \/srv\/b\/tls go/,
    );
  });
});

describe("the servers of a replacement host", () => {
  it("are asked for their versions, and accept data from the same or older ones", async () => {
    const checks = await checkServerVersions(pointOf({ db: "9.6.24", cache: "2.8.0" }), target, undefined);
    expect(checks.map((c) => [c.source, c.backup])).toEqual([
      ["db", "9.6.24"],
      ["cache", "2.8.0"],
    ]);
    expect(checks[0]?.target).toMatch(/^1\d\.\d+/);
    expect(checks[1]?.target).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("refuse a newer PostgreSQL major and a newer Redis, saying what to install", async () => {
    const newerPg = checkServerVersions(pointOf({ db: "99.1", cache: "2.8.0" }), target, undefined);
    await expect(newerPg).rejects.toMatchObject({ reason: "version_incompatible" });
    await expect(newerPg).rejects.toThrow(
      /PostgreSQL 99\.1, a newer major .* install PostgreSQL 99 or later/,
    );
    const newerRedis = checkServerVersions(pointOf({ db: "9.6", cache: "99.0.0" }), target, ["cache"]);
    await expect(newerRedis).rejects.toThrow(/Redis 99\.0\.0, newer than this host's Redis/);
  });
});
