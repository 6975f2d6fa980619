import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, CONTROLLER_MAIN, DaemonProcess, runCli } from "./cli-process.js";

interface HostRow {
  id: string;
  name: string;
  state: string;
  lastSeenAt: string | null;
  revokedAt: string | null;
}

// Short enough that a renewal (at two thirds) and the expiry of the first
// certificate happen within the test; long enough for a loaded machine.
const VALIDITY_S = 20;

describe("certificate revocation and renewal with real processes", () => {
  let dir: string;
  let controller: DaemonProcess;
  let enrollAddress: string;
  let apiUrl: string;
  let operatorToken: string;
  const daemons: DaemonProcess[] = [];

  const dataDir = () => join(dir, "controller");
  const api = (...args: string[]) =>
    runCli(CONTROLLER_MAIN, [
      "api",
      "--url",
      apiUrl,
      "--token",
      operatorToken,
      "--ca",
      join(dataDir(), "pki", "ca.crt"),
      ...args,
    ]);
  const hosts = async (): Promise<HostRow[]> => JSON.parse((await api("--json", "hosts")).stdout);
  const host = async (id: string) => (await hosts()).find((h) => h.id === id);
  const waitForHost = async (id: string, done: (h: HostRow) => boolean, what: string) => {
    for (let i = 0; i < 100; i++) {
      const row = await host(id);
      if (row && done(row)) return row;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`host ${id} never became ${what}: ${JSON.stringify(await host(id))}`);
  };

  const newToken = async () =>
    (
      await runCli(CONTROLLER_MAIN, ["token", "create", "--ttl", "5m", "--data-dir", dataDir()])
    ).stdout.trim();
  const enroll = async (name: string, token: string) => {
    const agentDir = join(dir, name);
    const result = await runCli(AGENT_MAIN, [
      "enroll",
      "--controller",
      enrollAddress,
      "--token",
      token,
      "--data-dir",
      agentDir,
      "--json",
    ]);
    expect(result.code, result.stderr).toBe(0);
    return { agentDir, hostId: (JSON.parse(result.stdout) as { hostId: string }).hostId };
  };
  const run = (agentDir: string) => {
    const agent = new DaemonProcess(AGENT_MAIN, ["run", "--data-dir", agentDir]);
    daemons.push(agent);
    return agent;
  };
  const certificateOf = (agentDir: string) =>
    new X509Certificate(readFileSync(join(agentDir, "identity", "agent.crt")));

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-e2e-certs-");
    controller = new DaemonProcess(CONTROLLER_MAIN, [
      "serve",
      "--data-dir",
      dataDir(),
      "--session-port",
      "0",
      "--enroll-port",
      "0",
      "--api-port",
      "0",
      "--storage-port",
      "0",
      "--agent-cert-validity",
      `${VALIDITY_S}s`,
      "--heartbeat-interval",
      "1s",
    ]);
    const started = await controller.waitForLog("controller started");
    enrollAddress = String(started.enrollAddress);
    apiUrl = String(started.apiUrl);
    const created = await runCli(CONTROLLER_MAIN, [
      ...["api-token", "create", "--name", "ops", "--role", "operator", "--data-dir", dataDir()],
    ]);
    expect(created.code, created.stderr).toBe(0);
    operatorToken = created.stdout.trim();
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop("SIGKILL")));
    await controller?.stop();
  });

  it("cuts a revoked agent's open stream at once, lists the host as revoked and refuses it from then on", async () => {
    const token = await newToken();
    const { agentDir, hostId } = await enroll("revoked", token);
    const agent = run(agentDir);
    await agent.waitForLog("connected to controller");
    await waitForHost(hostId, (h) => h.state === "online", "online");

    const revoked = await api("--json", "host", "revoke", hostId);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ sessionClosed: true, host: { id: hostId } });

    // The agent learns it is revoked, says what to do and exits instead of retrying.
    expect(await agent.exited(10_000)).toBe(4);
    const refusal = agent.lines.find((l) => String(l.msg).includes("refused this agent's certificate"));
    expect(refusal).toMatchObject({ code: 7, details: expect.stringContaining("revoked") });
    expect(agent.lines.some((l) => l.msg === "controller session lost; reconnecting")).toBe(false);
    const row = await waitForHost(hostId, (h) => h.state === "offline", "offline");
    expect(row.revokedAt).toMatch(/^\d{4}-/);

    const again = run(agentDir);
    expect(await again.exited(20_000)).toBe(4);
    expect(again.stderr).toContain("agent certificate revoked");
    expect((await host(hostId))?.state).toBe("offline");

    const replay = await runCli(AGENT_MAIN, [
      ...["enroll", "--controller", enrollAddress, "--token", token, "--data-dir", join(dir, "replay")],
    ]);
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain("already used");

    const audit = await runCli(CONTROLLER_MAIN, ["hosts", "--json", "--data-dir", dataDir()]);
    expect(JSON.parse(audit.stdout)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: hostId, revokedAt: row.revokedAt })]),
    );
  });

  it("renews a short-lived certificate on its own and keeps working after the first one expired", async () => {
    const { agentDir, hostId } = await enroll("renewing", await newToken());
    const first = certificateOf(agentDir);
    const firstExpiry = Date.parse(first.validTo);
    const agent = run(agentDir);
    await agent.waitForLog("connected to controller");
    await agent.waitForLog("agent certificate renewed; reconnecting with it", VALIDITY_S * 1_000);

    const renewed = certificateOf(agentDir);
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
    expect(renewed.subject).toBe(`CN=${hostId}`);
    expect(statSync(join(agentDir, "identity", "agent.key")).mode & 0o777).toBe(0o600);

    await new Promise((r) => setTimeout(r, Math.max(0, firstExpiry - Date.now()) + 3_000));
    const row = await waitForHost(
      hostId,
      (h) => h.state === "online" && Date.parse(h.lastSeenAt ?? "") > firstExpiry,
      "online after the first certificate expired",
    );
    expect(row.revokedAt).toBeNull();
    expect(agent.child.exitCode).toBeNull();
    expect(agent.stderr).not.toContain("refused this agent's certificate");
    expect(controller.stderr).not.toContain(readFileSync(join(agentDir, "identity", "agent.key"), "utf8"));
  });
});
