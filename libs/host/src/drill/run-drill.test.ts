import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Backup, LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecoveryPoint } from "../recovery-point/create-recovery-point.js";
import {
  RECOVERY_POINT_KIND,
  type RecoveryPoint,
  recoveryPointTag,
  type SourceOutcome,
} from "../recovery-point/recovery-point.js";
import type { StepReport } from "../restore/restore-step.js";
import { captureState, type HostState, type PiHost, SESSIONS, startPiHost } from "../test-support/pi-host.js";
import { runDrill } from "./run-drill.js";

afterAll(stopAll);

let host: PiHost;
let repo: Repository;
let point: RecoveryPoint;
let before: HostState;

beforeAll(async () => {
  host = await startPiHost("pi-drill");
  repo = await Repository.init(
    new LocalBackend(join(makeTempDir("pwdr-drill-repo-"), "repo")),
    "drill test",
    {
      kdf: { N: 1024, r: 8, p: 1 },
    },
  );
  point = await createRecoveryPoint(repo, host.definition);
  before = await captureState(host);
}, 120_000);

/** A work dir the sandbox PostgreSQL (run as the postgres user under root) can reach. */
function workDir(): string {
  const dir = makeTempDir("pwdr-drill-work-");
  chmodSync(dir, 0o711);
  return dir;
}

/** Command lines of running processes that mention `marker` (a sandbox path or address). */
function processesMentioning(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmdline.includes(marker) && state !== "Z") found.push(cmdline);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Addresses and directories the restore steps touched. */
function touched(steps: StepReport[]): string[] {
  return [...new Set(steps.flatMap((s) => s.touches))];
}

/** Writes a recovery point record as createRecoveryPoint does, with whatever it is told to say. */
async function saveCraftedRecord(record: RecoveryPoint): Promise<void> {
  const backup = await Backup.start(repo, {
    host: record.host,
    tags: [recoveryPointTag(record.id)],
    source: { kind: RECOVERY_POINT_KIND, name: "host" },
    meta: { recoveryPoint: record },
  });
  await backup.finish();
}

function expectSandboxGone(dir: string, steps: StepReport[]): void {
  expect(readdirSync(dir)).toEqual([]);
  const addresses = touched(steps).filter((t) => /^(redis|postgres):\/\//.test(t));
  for (const marker of [dir, ...addresses.map((a) => new URL(a).host)]) {
    expect(processesMentioning(marker)).toEqual([]);
  }
}

describe("the file sample of a recovery point", () => {
  it("digests world-readable config and data files, never private ones, and holds no content", () => {
    const config = point.sources.find((s) => s.name === "config");
    const data = point.sources.find((s) => s.name === "data");
    expect(config?.sample?.map((f) => f.path.slice(host.etc.length))).toEqual([
      "/config.yaml",
      "/tls/server.pem",
    ]);
    expect(data?.sample).toHaveLength(15);
    expect(data?.sample?.every((f) => /^[0-9a-f]{64}$/.test(f.sha256) && !f.path.endsWith(".tmp"))).toBe(
      true,
    );
    const text = JSON.stringify(point);
    expect(text).not.toContain("do-not-print");
    expect(text).not.toContain("scan_interval");
  });
});

describe("a restore drill", () => {
  it("passes on an intact recovery point, leaves the live host alone and nothing behind", async () => {
    const dir = workDir();
    const steps: StepReport[] = [];
    const livePid = host.redis.pid;
    const result = await runDrill(repo, { fromHost: "pi-drill", workDir: dir, onStep: (s) => steps.push(s) });

    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({ status: "passed", recoveryPoint: point.id, host: "pi-drill" });
    expect(result.restoreMs).toBeGreaterThan(0);
    expect(result.durationMs).toBeGreaterThanOrEqual(result.restoreMs);
    // Application data is restored beside the database → Redis → configuration chain.
    expect(
      steps
        .filter((s) => s.status === "done")
        .map((s) => s.kind)
        .sort(),
    ).toEqual(["restore-config", "restore-files", "restore-postgres", "restore-redis"]);
    const [db, cache, config, data] = result.sources;
    expect(db?.assertions).toEqual([
      { check: "rows of piwardrive.public.sessions", expected: SESSIONS, actual: SESSIONS, passed: true },
      { check: "rows of piwardrive.public.settings", expected: 1, actual: 1, passed: true },
      { check: "rows of piwardrive.public.wifi_detections", expected: 5000, actual: 5000, passed: true },
    ]);
    expect(cache?.assertions).toEqual([
      { check: "keys in redis:db0", expected: 52, actual: 52, passed: true },
      { check: "keys in redis:db2", expected: 1, actual: 1, passed: true },
    ]);
    expect(config?.assertions[0]).toEqual({ check: "files restored", expected: 4, actual: 4, passed: true });
    expect(config?.assertions).toHaveLength(3);
    expect(data?.assertions[0]).toEqual({ check: "files restored", expected: 15, actual: 15, passed: true });
    expect(data?.assertions).toHaveLength(16);
    expect(result.sources.every((s) => s.assertions.every((a) => a.passed))).toBe(true);

    // Every step restored into the sandbox; the live servers and trees are as they were.
    const live = [
      `127.0.0.1:${host.pg.port}`,
      `127.0.0.1:${host.redis.port}`,
      host.etc,
      host.data,
      host.redis.dir,
    ];
    expect(touched(steps).filter((t) => live.some((l) => t.startsWith(l) || t.includes(`//${l}`)))).toEqual(
      [],
    );
    expect(await captureState(host)).toEqual(before);
    expect(host.redis.pid).toBe(livePid);
    expectSandboxGone(dir, steps);
  }, 120_000);

  it("fails, naming each mismatch, when restored data disagrees with the record", async () => {
    const data = point.sources.find((s) => s.name === "data");
    const tampered = data?.sample?.[3];
    const crafted: RecoveryPoint = {
      ...point,
      id: `${point.id.slice(0, 16)}-c0ffee`,
      sources: point.sources.map((s): SourceOutcome => {
        if (s.name === "db")
          return { ...s, counts: { ...s.counts, "table:piwardrive.public.sessions": SESSIONS + 1 } };
        const sample = s.sample?.map((f) => (f === tampered ? { ...f, sha256: "0".repeat(64) } : f));
        return sample ? { ...s, sample } : s;
      }),
    };
    await saveCraftedRecord(crafted);
    const dir = workDir();
    const steps: StepReport[] = [];
    const result = await runDrill(repo, {
      recoveryPoint: crafted.id,
      fromHost: "pi-drill",
      workDir: dir,
      onStep: (s) => steps.push(s),
    });

    expect(result.status).toBe("failed");
    expect(result.recoveryPoint).toBe(crafted.id);
    expect(result.failure).toBe(
      `2 check(s) failed: db: rows of piwardrive.public.sessions: expected ${SESSIONS + 1}, got ${SESSIONS}; ` +
        `data: content of ${tampered?.path}: expected ${tampered?.size} bytes, sha256 as recorded, ` +
        `got ${tampered?.size} bytes, sha256 differs`,
    );
    expect(JSON.stringify(result)).not.toMatch(/[0-9a-f]{64}/);
    expectSandboxGone(dir, steps);
  }, 120_000);

  it("catches a file that is damaged after its restore", async () => {
    const victim = point.sources.find((s) => s.name === "config")?.sample?.[0];
    const dir = workDir();
    const steps: StepReport[] = [];
    const result = await runDrill(repo, {
      recoveryPoint: point.id,
      fromHost: "pi-drill",
      workDir: dir,
      onStep: (s) => {
        steps.push(s);
        const restoredTree = s.touches[0];
        if (s.kind === "restore-config" && s.status === "done" && restoredTree && victim) {
          writeFileSync(
            join(restoredTree, victim.path.slice(host.etc.length)),
            "scan_interval: 31\nupload: true\n",
          );
        }
      },
    });

    expect(result.status).toBe("failed");
    expect(result.failure).toMatch(
      new RegExp(
        `^1 check\\(s\\) failed: config: content of ${victim?.path}: .*got \\d+ bytes, sha256 differs$`,
      ),
    );
    expectSandboxGone(dir, steps);
  }, 120_000);

  it("is a failed drill, cleaned up, when a sandbox server cannot start", async () => {
    const crafted: RecoveryPoint = {
      ...point,
      id: `${point.id.slice(0, 16)}-bad000`,
      sources: point.sources.map((s) => (s.kind === "redis" ? { ...s, version: "99.0.0" } : s)),
    };
    await saveCraftedRecord(crafted);
    const dir = workDir();
    const result = await runDrill(repo, { recoveryPoint: crafted.id, fromHost: "pi-drill", workDir: dir });

    expect(result).toMatchObject({ status: "failed", recoveryPoint: crafted.id, restoreMs: 0, sources: [] });
    expect(result.failure).toMatch(
      /^the drill could not run: the sandbox needs Redis 99\.x like the backed-up server \(99\.0\.0\); redis-server on PATH is 7\./,
    );
    // The PostgreSQL started before Redis failed is gone with the directory.
    expectSandboxGone(dir, []);
  }, 120_000);

  it("is a failed drill when there is no recovery point to restore", async () => {
    const result = await runDrill(repo, { fromHost: "pi-nobody", workDir: workDir() });
    expect(result).toMatchObject({ status: "failed", host: "pi-nobody", sources: [] });
    expect(result.recoveryPoint).toBeUndefined();
    expect(result.failure).toMatch(/no complete recovery point of host pi-nobody/);
  });
});
