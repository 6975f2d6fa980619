import { statSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, CONTROLLER_MAIN, DaemonProcess, runCli } from "./cli-process.js";

interface HostRow {
  name: string;
  state: string;
  agentVersion: string | null;
}

describe("controller and agent as real processes over mutual TLS", () => {
  let dir: string;
  let controller: DaemonProcess;
  let enrollAddress: string;
  const agents: DaemonProcess[] = [];

  const controllerCli = (...args: string[]) =>
    runCli(CONTROLLER_MAIN, [...args, "--data-dir", join(dir, "controller")]);
  const hosts = async (): Promise<HostRow[]> => JSON.parse((await controllerCli("hosts", "--json")).stdout);
  const waitForHostState = async (state: string) => {
    for (let i = 0; i < 100; i++) {
      const rows = await hosts();
      if (rows.length === 1 && rows[0]?.state === state) return rows;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`host never became ${state}: ${JSON.stringify(await hosts())}`);
  };

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-e2e-");
    controller = new DaemonProcess(CONTROLLER_MAIN, [
      "serve",
      "--data-dir",
      join(dir, "controller"),
      "--session-port",
      "0",
      "--enroll-port",
      "0",
      // Every port free: other test files run controllers at the same time.
      "--api-port",
      "0",
      "--storage-port",
      "0",
    ]);
    const started = await controller.waitForLog("controller started");
    enrollAddress = String(started.enrollAddress);
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop("SIGKILL")));
    await controller?.stop();
  });

  it("enrolls with a one-time token, connects, and shows the host online then offline", async () => {
    const token = (
      await controllerCli("token", "create", "--ttl", "5m", "--label", "site=lab")
    ).stdout.trim();
    expect(token).toMatch(/^pwdr1\.[\w-]+\.[0-9a-f]{64}$/);

    const agentDir = join(dir, "agent");
    const enrolled = await runCli(AGENT_MAIN, [
      "enroll",
      "--controller",
      enrollAddress,
      "--token",
      token,
      "--data-dir",
      agentDir,
      "--json",
    ]);
    expect(enrolled.stderr).toBe("");
    expect(enrolled.code).toBe(0);
    expect(statSync(join(agentDir, "identity", "agent.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "controller", "pki", "ca.key")).mode & 0o777).toBe(0o600);

    const agent = new DaemonProcess(AGENT_MAIN, ["run", "--data-dir", agentDir]);
    agents.push(agent);
    await agent.waitForLog("connected to controller");
    const [online] = await waitForHostState("online");
    expect(online?.agentVersion).toBe("0.1.0");

    await agent.stop("SIGKILL");
    await waitForHostState("offline");

    const replay = await runCli(AGENT_MAIN, [
      "enroll",
      "--controller",
      enrollAddress,
      "--token",
      token,
      "--data-dir",
      join(dir, "thief"),
    ]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain("already used");
  });

  it("refuses a malformed token with a message that says what a token looks like", async () => {
    const bad = await runCli(AGENT_MAIN, [
      "enroll",
      "--controller",
      enrollAddress,
      "--token",
      "nope",
      "--data-dir",
      join(dir, "x"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("pwdr1.<secret>.<ca-fingerprint>");
  });
});
