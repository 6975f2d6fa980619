import { join } from "node:path";
import { createLogger } from "@pwdr/logging";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiToken } from "../api-tokens.js";
import { controllerCli } from "../cli.js";
import { type RunningController, startController } from "../controller-server.js";
import { replacementAgent, seedFailedHost } from "../dr/test-support/dr-fixture.js";

describe("pwdr-controller api dr", () => {
  let controller: RunningController;
  let dir: string;
  let operator: string;

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-cli-dr-");
    controller = await startController({
      dataDir: dir,
      schedulerIntervalMs: 3_600_000,
      drIntervalMs: 200,
      repositoryKdf: { N: 1024, r: 8, p: 1 },
      log: createLogger("controller", "error"),
    });
    operator = (await createApiToken(controller.db, { name: "cli-dr", role: "operator" })).token;
  });

  afterAll(async () => {
    await controller?.close();
  });

  async function api(...args: string[]): Promise<{ out: string; err: string }> {
    let out = "";
    let err = "";
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      err += String(chunk);
      return true;
    });
    const ca = join(dir, "pki", "ca.crt");
    try {
      await controllerCli().parseAsync(
        ["node", "x", "api", "--url", controller.apiUrl, "--ca", ca, "--token", operator, ...args],
        { from: "node" },
      );
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    return { out, err };
  }

  it("shows the plan without --yes, runs it with --yes --wait, lists and shows runs", async () => {
    await seedFailedHost(controller, "cli-a");
    const agent = await replacementAgent(controller, "cli-b");

    const dry = await api("dr", "restore", "cli-a", "cli-b");
    expect(dry.out).toMatch(/restore cli-a onto cli-b from recovery point/);
    expect(dry.out).toMatch(/restore-database/);
    expect(dry.out).toMatch(/assessment: ok/);
    expect(dry.out).toMatch(/nothing was changed; add --yes/);
    expect(await controller.db.drRun.count()).toBe(0);

    const run = await api("dr", "restore", "cli-a", "cli-b", "--yes", "--wait");
    expect(run.err).toMatch(/\[8\] take-over: succeeded/);
    expect(run.out).toMatch(/DR run \S+ \(host-restore\) succeeded/);
    expect(run.out).toMatch(/RTO \d+\.\ds {2}RPO \d+\.\ds/);

    const list = await api("dr", "runs", "list");
    expect(list.out).toMatch(/host-restore\s+succeeded/);
    const json = JSON.parse((await api("--json", "dr", "runs", "list")).out) as { runs: { id: string }[] };
    const shown = JSON.parse((await api("--json", "dr", "runs", "show", json.runs[0]?.id ?? "")).out) as {
      steps: unknown[];
    };
    expect(shown.steps).toHaveLength(9);
    await expect(api("dr", "runs", "cancel", json.runs[0]?.id ?? "")).rejects.toThrow(/succeeded already/);
    agent.disconnect();
  });

  it("plans a fleet drill, runs it with --yes --wait, and shows the host's drills and RTO trend", async () => {
    await seedFailedHost(controller, "cli-drilled");
    const sandbox = await replacementAgent(controller, "cli-sandbox");
    const dry = await api("dr", "drill", "cli-drilled", "--onto", "cli-sandbox");
    expect(dry.out).toMatch(/sandbox drill of cli-drilled's recovery point \S+ .* on cli-sandbox/);
    expect(dry.out).toMatch(/nothing was changed; add --yes/);

    const run = await api("dr", "drill", "cli-drilled", "--onto", "cli-sandbox", "--yes", "--wait");
    expect(run.err).toMatch(/\[1\] drill: succeeded/);
    expect(run.out).toMatch(/DR run \S+ \(drill\) succeeded/);

    const drills = await api("dr", "drills", "cli-drilled");
    expect(drills.out).toMatch(/sandbox\s+cli-sandbox\s+succeeded/);
    expect(drills.out).toMatch(/1\/1 drills succeeded; RTO last \d+\.\ds/);
    await expect(api("dr", "drills", "no-such-host")).rejects.toThrow(/no host "no-such-host"/);
    sandbox.disconnect();
  });
});
