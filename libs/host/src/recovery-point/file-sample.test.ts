import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Backup, type BackupResult, LocalBackend, Repository } from "@pwdr/repo";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleSnapshotFiles } from "./file-sample.js";

afterAll(stopAll);

let repo: Repository;
let tree: string;
let done: BackupResult;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

beforeAll(async () => {
  repo = await Repository.init(new LocalBackend(join(makeTempDir("pwdr-sample-repo-"), "repo")), "sample", {
    kdf: { N: 1024, r: 8, p: 1 },
  });
  tree = makeTempDir("pwdr-sample-tree-");
  mkdirSync(join(tree, "logs"));
  for (let i = 0; i < 40; i++) writeFileSync(join(tree, "logs", `day-${i}.log`), `line ${i}\n`.repeat(i + 1));
  writeFileSync(join(tree, "secret.env"), "TOKEN=hunter2\n", { mode: 0o600 });
  chmodSync(join(tree, "secret.env"), 0o600);
  const backup = await Backup.start(repo, { source: { kind: "files", name: "data" } });
  await backup.addPath(tree);
  done = await backup.finish();
});

describe("the file sample taken at backup time", () => {
  it("takes at most 32 files by a stable hash of their path, with size and sha256", async () => {
    const sample = await sampleSnapshotFiles(repo, done.snapshot);
    expect(sample).toHaveLength(32);
    expect(await sampleSnapshotFiles(repo, done.snapshot)).toEqual(sample);
    const first = sample[0];
    const i = Number(/day-(\d+)/.exec(first?.path ?? "")?.[1]);
    expect(first).toEqual({
      path: join(tree, "logs", `day-${i}.log`),
      size: `line ${i}\n`.length * (i + 1),
      sha256: sha256(`line ${i}\n`.repeat(i + 1)),
    });
  });

  it("leaves out files only their owner may read", async () => {
    const sample = await sampleSnapshotFiles(repo, done.snapshot, { files: 100, bytes: 1 << 20 });
    expect(sample).toHaveLength(40);
    expect(sample.some((f) => f.path.endsWith("secret.env"))).toBe(false);
  });

  it("passes over files changed since the archiver read them, and stays within the byte budget", async () => {
    const all = await sampleSnapshotFiles(repo, done.snapshot, { files: 100, bytes: 1 << 20 });
    const changed = all[0]?.path as string;
    utimesSync(changed, new Date(), new Date(Date.now() + 5_000));
    const sample = await sampleSnapshotFiles(repo, done.snapshot, { files: 100, bytes: 2000 });
    expect(sample.some((f) => f.path === changed)).toBe(false);
    expect(sample.reduce((sum, f) => sum + f.size, 0)).toBeLessThanOrEqual(2000);
    expect(sample.length).toBeGreaterThan(5);
    expect(sample.length).toBeLessThan(40);
  });
});
