import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { listFiles, type Repository } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from "vitest";
import { type ConfigRun, configBackupRun } from "../test-support/config-backup-run.js";
import { type ConfigFixture, makeConfigFixture, PLANTED_OWNER } from "../test-support/config-fixture.js";
import { pgTempRepository } from "../test-support/pg-temp-repo.js";
import type { CertificateRecord } from "./config-types.js";
import { restoreConfig } from "./restore-config.js";

afterAll(stopAll);

const IS_ROOT = process.getuid?.() === 0;
const NOW = new Date();

let fx: ConfigFixture;
let repo: Repository;
let run: ConfigRun;
/** Everything the code under test printed or returned, for the secret grep. */
const outputs: string[] = [];
let consoleSpies: MockInstance[] = [];

beforeEach(() => {
  consoleSpies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      outputs.push(args.map(String).join(" "));
    }),
  );
});
afterEach(() => {
  for (const spy of consoleSpies) spy.mockRestore();
});

beforeAll(async () => {
  fx = await makeConfigFixture();
  repo = await pgTempRepository();
  run = await configBackupRun(repo, {
    // The tls directory is inside /etc/piwardrive: stored and scanned once.
    paths: [fx.piwardrive, fx.nginx, fx.compose, join(fx.piwardrive, "tls/")],
    optionalPaths: [join(fx.root, "etc/letsencrypt")],
    exclude: ["*.swp"],
    now: NOW,
  });
  outputs.push(
    JSON.stringify(run.source),
    JSON.stringify(run.backup),
    ...run.logs,
    JSON.stringify(run.progress),
  );
});

function expectNoSecrets(texts: readonly string[]): void {
  const all = texts.join("\n");
  for (const secret of fx.secrets) expect(all, `leaked ${secret}`).not.toContain(secret);
  expect(all).not.toContain("PRIVATE KEY");
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  outputs.push(JSON.stringify(err), String(err), (err as Error).message, String((err as Error).stack));
  return err as Error;
}

function certAt(path: string, index: number): CertificateRecord | undefined {
  const certs = run.source.meta.certificates as CertificateRecord[];
  return certs.find((c) => c.path === path && c.index === index);
}

describe("backupConfig", () => {
  it("records every certificate with subject, SANs and expiry, and warns about the expiring one", () => {
    const tls = join(fx.piwardrive, "tls");
    const leaf = certAt(join(tls, "server.crt"), 0);
    expect(leaf).toMatchObject({
      subject: "CN=pi-01.fleet.test",
      issuer: "CN=PiWardrive Test CA",
      dnsNames: ["pi-01.fleet.test", "piwardrive.local"],
      ipAddresses: ["10.0.0.7"],
      isCa: false,
      expiresSoon: false,
    });
    expect(leaf?.daysLeft).toBeGreaterThanOrEqual(363);
    expect(Date.parse(leaf?.notAfter ?? "")).toBeGreaterThan(NOW.getTime() + 360 * 86_400_000);
    expect(certAt(join(tls, "server.crt"), 1)).toMatchObject({
      subject: "CN=PiWardrive Test CA",
      isCa: true,
    });
    const old = certAt(join(tls, "old-combined.pem"), 0);
    expect(old).toMatchObject({
      subject: "CN=old.fleet.test",
      dnsNames: ["old.fleet.test"],
      expiresSoon: true,
    });
    expect(old?.daysLeft).toBeGreaterThanOrEqual(3);
    expect(old?.daysLeft).toBeLessThanOrEqual(5);
    // Key-only files are never parsed, so they add no records.
    expect(run.source.meta.certificates).toHaveLength(3);
    const warnings = run.source.meta.warnings as string[];
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("old-combined.pem");
    expect(warnings[0]).toContain("CN=old.fleet.test");
    expect(run.source.counts).toMatchObject({ certificates: 3, "certificates:expiring": 1 });
    expect(run.logs.some((l) => l.includes("old-combined.pem"))).toBe(true);
  });

  it("backs up the paths with owner and mode, skipping excluded files and missing optional paths", async () => {
    expect(run.source.kind).toBe("config");
    expect(run.source.meta.missingOptional).toEqual([join(fx.root, "etc/letsencrypt")]);
    const entries = [];
    for await (const e of listFiles(repo, run.backup.snapshot, { recursive: true })) entries.push(e);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.has(join(fx.piwardrive, "editor.swp"))).toBe(false);
    expect(byPath.get(join(fx.piwardrive, ".env"))?.mode).toBe(0o600);
    expect(byPath.get(join(fx.piwardrive, "tls"))?.mode).toBe(0o750);
    if (IS_ROOT) expect(byPath.get(join(fx.piwardrive, "config.yaml"))).toMatchObject(PLANTED_OWNER);
    expect(byPath.has(fx.nginx) && byPath.has(fx.compose)).toBe(true);
  });

  it("names every missing required path in one invalid_argument error, and writes nothing", async () => {
    const missing = [join(fx.root, "etc/nope.conf"), join(fx.root, "srv/gone")];
    const err = await errorOf(configBackupRun(repo, { paths: [fx.piwardrive, ...missing] }, outputs));
    expect(err).toMatchObject({ code: "invalid_argument" });
    for (const path of missing) expect(err.message).toContain(path);
  });

  it("refuses relative paths", async () => {
    const err = await errorOf(configBackupRun(repo, { paths: ["etc/piwardrive"] }, outputs));
    expect(err).toMatchObject({ code: "invalid_argument" });
    expect(err.message).toContain("etc/piwardrive");
  });
});

describe("restoreConfig", () => {
  it("restores everything under a prefix with contents, modes and owners", async () => {
    const prefix = makeTempDir("config-restore");
    const result = await restoreConfig({ repo, snapshotId: run.backup.id }, { targetPrefix: prefix });
    outputs.push(JSON.stringify(result));
    expect(result.paths).toEqual([fx.piwardrive, fx.nginx, fx.compose]);
    expect(result.issues).toEqual([]);
    for (const [rel, mode] of Object.entries(fx.files)) {
      const original = join(fx.root, rel);
      const restored = join(prefix, original);
      if (rel.endsWith(".swp")) {
        await expect(stat(restored)).rejects.toMatchObject({ code: "ENOENT" });
        continue;
      }
      expect(await readFile(restored, "utf8")).toBe(await readFile(original, "utf8"));
      const [a, b] = [await stat(original), await stat(restored)];
      expect(b.mode & 0o7777, rel).toBe(mode);
      if (IS_ROOT) expect({ uid: b.uid, gid: b.gid }, rel).toEqual({ uid: a.uid, gid: a.gid });
    }
    expect((await stat(join(prefix, fx.piwardrive, "tls"))).mode & 0o7777).toBe(0o750);
    expect(result.files).toBe(Object.keys(fx.files).length - 1);
  });

  it("restores a single file", async () => {
    const prefix = makeTempDir("config-restore-one");
    const env = join(fx.piwardrive, ".env");
    const result = await restoreConfig(
      { repo, snapshotId: run.backup.id },
      { targetPrefix: prefix, paths: [env] },
    );
    expect(result).toMatchObject({ files: 1, paths: [env] });
    expect(await readFile(join(prefix, env), "utf8")).toBe(await readFile(env, "utf8"));
    await expect(stat(join(prefix, fx.piwardrive, "config.yaml"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("puts a lost file back at its original path", async () => {
    const key = join(fx.piwardrive, "tls/server.key");
    const before = await readFile(key, "utf8");
    await rm(key);
    const result = await restoreConfig(
      { repo, snapshotId: run.backup.id },
      { targetPrefix: "/", paths: [key] },
    );
    expect(result.files).toBe(1);
    expect(await readFile(key, "utf8")).toBe(before);
    expect((await stat(key)).mode & 0o7777).toBe(0o600);
  });

  it("writes nothing on a dry run but counts what it would restore", async () => {
    const prefix = join(makeTempDir("config-dry"), "root");
    const result = await restoreConfig(
      { repo, snapshotId: run.backup.id },
      { targetPrefix: prefix, dryRun: true },
    );
    expect(result.files).toBe(Object.keys(fx.files).length - 1);
    await expect(stat(join(prefix, fx.piwardrive))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("refuses a path outside the snapshot and a relative prefix", async () => {
    const ctx = { repo, snapshotId: run.backup.id };
    const outside = await errorOf(restoreConfig(ctx, { targetPrefix: "/tmp/x", paths: ["/etc/shadow"] }));
    expect(outside).toMatchObject({ code: "invalid_argument" });
    expect(outside.message).toContain("/etc/shadow");
    const relative = await errorOf(restoreConfig(ctx, { targetPrefix: "mnt/newroot" }));
    expect(relative).toMatchObject({ code: "invalid_argument" });
  });
});

describe("secret safety", () => {
  it("no result, warning, error, log line, progress event or console output carries a secret", () => {
    expect(outputs.length).toBeGreaterThan(5);
    expectNoSecrets(outputs);
    // The snapshot's meta is what a catalog would store.
    expectNoSecrets([JSON.stringify(run.backup.snapshot)]);
  });

  it("the secrets are in the repository all the same (the grep is not vacuous)", async () => {
    const prefix = makeTempDir("config-secrets");
    await restoreConfig(
      { repo, snapshotId: run.backup.id },
      { targetPrefix: prefix, paths: [fx.piwardrive] },
    );
    const env = await readFile(join(prefix, fx.piwardrive, ".env"), "utf8");
    expect(env).toContain("planted-secret-XYZ");
  });
});
