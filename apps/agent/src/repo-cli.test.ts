import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { beforeAll, describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "main.ts");
const PASSWORD = "cli test password";

function agent(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, ["--conditions=development", "--import", "tsx", MAIN, ...args], {
    env: { ...process.env, PWDR_PASSWORD: PASSWORD, ...env },
    encoding: "utf8",
    input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("pwdr-agent repository commands (real processes)", () => {
  let dir: string;
  let repo: string;
  let src: string;

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-cli-");
    repo = join(dir, "repo");
    src = join(dir, "site");
    await mkdir(join(src, "logs"), { recursive: true });
    await writeFile(join(src, "logs", "kismet.log"), "beacon ssid=NETGEAR42 rssi=-61\n".repeat(20_000));
    await writeFile(join(src, "config.env"), "API_TOKEN=planted-secret-123\n");
    expect(agent(["init", "-r", repo]).code).toBe(0);
  });

  it("backs up, lists, restores byte-identical and checks, with --json", async () => {
    const backup = agent(["backup", "-r", repo, src, "--tag", "daily", "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    const { snapshotId, summary } = JSON.parse(backup.stdout);
    expect(summary.files).toBe(2);
    const list = JSON.parse(agent(["snapshots", "-r", repo, "--json"]).stdout);
    expect(list.map((s: { id: string }) => s.id)).toContain(snapshotId);
    const target = join(dir, "restored");
    const restore = agent(["restore", "-r", repo, snapshotId.slice(0, 8), "--target", target]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(sha(await readFile(join(target, src, "logs", "kismet.log")))).toBe(
      sha(await readFile(join(src, "logs", "kismet.log"))),
    );
    expect(agent(["check", "-r", repo, "--read-data"]).code).toBe(0);
    expect(agent(["check", "-r", repo, "--read-data-subset", "1/3"]).code).toBe(0);
    const dry = agent(["restore", "-r", repo, "latest", "--target", join(dir, "dry"), "--dry-run", "--json"]);
    expect(JSON.parse(dry.stdout).plan.length).toBeGreaterThan(0);
    expect(await readdir(dir)).not.toContain("dry");
  });

  it("stores a command's output and refuses a snapshot when the command fails", async () => {
    const ok = agent([
      "backup",
      "-r",
      repo,
      "--stdin-from-command",
      "--stdin-filename",
      "/pg/db.dump",
      "--json",
      "--",
      "sh",
      "-c",
      "seq 1 50000",
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const dumped = agent(["dump", "-r", repo, "latest", "/pg/db.dump"]);
    expect(dumped.stdout).toBe(spawnSync("seq", ["1", "50000"], { encoding: "utf8" }).stdout);
    const before = JSON.parse(agent(["snapshots", "-r", repo, "--json"]).stdout).length;
    const failed = agent([
      "backup",
      "-r",
      repo,
      "--stdin-from-command",
      "--",
      "sh",
      "-c",
      "seq 1 1000; exit 7",
    ]);
    expect(failed.code).toBe(20);
    expect(failed.stderr).toContain("exited with code 7; no snapshot was written");
    expect(JSON.parse(agent(["snapshots", "-r", repo, "--json"]).stdout).length).toBe(before);
  });

  it("exits with a distinct documented code for each kind of failure", async () => {
    expect(agent(["snapshots", "-r", repo], { PWDR_PASSWORD: "wrong" })).toMatchObject({ code: 11 });
    const missing = agent(["snapshots", "-r", join(dir, "nope")]);
    expect(missing.code).toBe(10);
    expect(missing.stderr).toContain("create one with `init`");
    expect(agent(["init", "-r", repo]).code).toBe(13);
    expect(agent(["snapshots"], { PWDR_REPOSITORY: "" }).code).toBe(2);
    const json = agent(["restore", "-r", repo, "ffff", "--target", join(dir, "x"), "--json"]);
    expect(json.code).toBe(18);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "snapshot_not_found" } });
    const newer = join(dir, "newer");
    expect(agent(["init", "-r", newer]).code).toBe(0);
    const config = JSON.parse(await readFile(join(newer, "config"), "utf8"));
    await writeFile(join(newer, "config"), JSON.stringify({ ...config, version: 99 }));
    const refused = agent(["snapshots", "-r", newer]);
    expect(refused.code).toBe(12);
    expect(refused.stderr).toContain("upgrade PWDR");
  });

  it("explains forget decisions and prunes what they free", () => {
    for (let i = 0; i < 2; i++) expect(agent(["backup", "-r", repo, src]).code).toBe(0);
    const dry = JSON.parse(agent(["forget", "-r", repo, "--keep-last", "1", "--dry-run", "--json"]).stdout);
    const decisions = dry.groups.flatMap(
      (g: { decisions: { keep: boolean; reasons: string[] }[] }) => g.decisions,
    );
    expect(
      decisions
        .filter((d: { keep: boolean }) => d.keep)
        .every((d: { reasons: string[] }) => d.reasons.includes("last snapshot")),
    ).toBe(true);
    expect(agent(["forget", "-r", repo, "--keep-last", "1"]).code).toBe(0);
    expect(agent(["prune", "-r", repo]).code).toBe(0);
    expect(agent(["check", "-r", repo, "--read-data"]).code).toBe(0);
  });

  it("never prints the contents of backed-up secrets", () => {
    const outputs = [
      agent(["ls", "-r", repo, "latest", "-R", "-l"]),
      agent(["snapshots", "-r", repo, "--json"]),
      agent(["check", "-r", repo, "--read-data", "--json"]),
    ];
    for (const o of outputs) expect(o.stdout + o.stderr).not.toContain("planted-secret-123");
  });
});
