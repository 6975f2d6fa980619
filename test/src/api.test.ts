import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTROLLER_MAIN, DaemonProcess, runCli } from "./cli-process.js";

interface AuditRow {
  actor: string;
  action: string;
  target: string;
  details: { outcome: string };
}

describe("the REST API of a real controller process over HTTPS", () => {
  let dir: string;
  let controller: DaemonProcess;
  let apiUrl: string;

  const dataDir = () => join(dir, "controller");
  const api = (token: string, ...args: string[]) =>
    runCli(CONTROLLER_MAIN, [
      "api",
      "--url",
      apiUrl,
      "--token",
      token,
      "--ca",
      join(dataDir(), "pki", "ca.crt"),
      ...args,
    ]);

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-e2e-api-");
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
    ]);
    apiUrl = String((await controller.waitForLog("controller started")).apiUrl);
  });

  afterAll(async () => {
    await controller?.stop();
  });

  it("bootstraps an admin token with the CLI, delegates a viewer token, and audits both", async () => {
    expect(apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const boot = await runCli(CONTROLLER_MAIN, [
      "api-token",
      "create",
      "--name",
      "bootstrap",
      "--role",
      "admin",
      "--data-dir",
      dataDir(),
    ]);
    expect(boot.code, boot.stderr).toBe(0);
    const admin = boot.stdout.trim();
    expect(admin).toMatch(/^pwdrapi1_[\w-]{43}$/);

    const created = await api(admin, "tokens", "create", "--name", "dashboard", "--role", "viewer", "--json");
    expect(created.code, created.stderr).toBe(0);
    const viewer = JSON.parse(created.stdout) as { id: string; token: string };

    const hosts = await api(viewer.token, "--json", "hosts");
    expect(hosts.code, hosts.stderr).toBe(0);
    expect(JSON.parse(hosts.stdout)).toEqual([]);

    const forbidden = await api(viewer.token, "enrollment-token", "create");
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toContain("needs the operator role");

    const audit = await api(admin, "audit", "--json");
    const events = JSON.parse(audit.stdout) as AuditRow[];
    expect(events.slice(0, 3)).toMatchObject([
      { actor: "token:dashboard", action: "enrollment-token.create", details: { outcome: "denied" } },
      {
        actor: "token:bootstrap",
        action: "api-token.create",
        target: `api-token:${viewer.id}`,
        details: { outcome: "success" },
      },
      { actor: "cli", action: "api-token.create", details: { outcome: "success" } },
    ]);
    expect(audit.stdout).not.toContain(viewer.token);
    expect(audit.stdout).not.toContain(admin);
    expect(controller.stderr).not.toContain(viewer.token);
    expect(controller.stderr).not.toContain(admin);
  });

  it("refuses a revoked token on its next request", async () => {
    const boot = await runCli(CONTROLLER_MAIN, [
      "api-token",
      "create",
      "--name",
      "short-lived",
      "--role",
      "viewer",
      "--json",
      "--data-dir",
      dataDir(),
    ]);
    const token = JSON.parse(boot.stdout) as { id: string; token: string };
    expect((await api(token.token, "hosts")).code).toBe(0);
    const revoked = await runCli(CONTROLLER_MAIN, ["api-token", "revoke", token.id, "--data-dir", dataDir()]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const refused = await api(token.token, "hosts");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("UNAUTHENTICATED");
  });
});
