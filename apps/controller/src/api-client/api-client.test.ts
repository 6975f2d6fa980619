import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger } from "@pwdr/logging";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createApiToken } from "../api-tokens.js";
import { controllerCli } from "../cli.js";
import { type RunningController, startController } from "../controller-server.js";
import { ApiClient, ApiRequestError, ApiUnreachableError } from "./api-client.js";

describe("ApiClient against the controller's HTTPS API", () => {
  let controller: RunningController;
  let adminToken: string;

  beforeAll(async () => {
    controller = await startController({
      dataDir: await makeTempDir("pwdr-api-client-"),
      sessionPort: 0,
      enrollPort: 0,
      apiPort: 0,
      log: createLogger("controller", "error"),
    });
    adminToken = (await createApiToken(controller.db, { name: "admin", role: "admin" })).token;
  });

  afterAll(async () => {
    await controller?.close();
  });

  const client = (token = adminToken) =>
    new ApiClient({ url: controller.apiUrl, token, caPem: controller.pki.ca.certPem });

  it("fails to start, naming --api-port, when the API port is taken", async () => {
    const taken = Number(new URL(controller.apiUrl).port);
    const second = startController({
      dataDir: await makeTempDir("pwdr-api-port-"),
      sessionPort: 0,
      enrollPort: 0,
      apiPort: taken,
      log: createLogger("controller", "error"),
    });
    await expect(second).rejects.toThrow(/EADDRINUSE.*--api-port/);
  });

  it("serves HTTPS on loopback with a certificate the controller CA signed", async () => {
    expect(controller.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await client().get("/health")).toEqual({ status: "ok" });
  });

  it("refuses to talk to a server it cannot verify", async () => {
    const untrusting = new ApiClient({ url: controller.apiUrl, token: adminToken });
    await expect(untrusting.get("/health")).rejects.toThrow(ApiUnreachableError);
  });

  it("turns an error answer into an ApiRequestError with the API's code and details", async () => {
    const request = client().post("/api-tokens", { name: "x", role: "root" });
    await expect(request).rejects.toBeInstanceOf(ApiRequestError);
    await expect(request).rejects.toMatchObject({
      status: 400,
      code: "VALIDATION_FAILED",
      details: [
        { path: "body/role", message: "must be equal to one of the allowed values: viewer, operator, admin" },
      ],
    });
    await expect(client("pwdrapi1_nope").get("/hosts")).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("creates an enrollment token that the audit log records without its secret", async () => {
    const created = await client().post<{ id: string; token: string }>("/enrollment-tokens", { ttl: "5m" });
    const { events } = await client().get<{ events: { action: string; target: string }[] }>("/audit-events");
    expect(events[0]).toMatchObject({
      action: "enrollment-token.create",
      target: `enrollment-token:${created.id}`,
    });
    expect(JSON.stringify(events)).not.toContain(created.token.split(".")[1]);
  });
});

describe("pwdr-controller api (the operator CLI) in-process", () => {
  let controller: RunningController;
  let dir: string;

  beforeAll(async () => {
    dir = await makeTempDir("pwdr-api-cli-");
    controller = await startController({
      dataDir: dir,
      sessionPort: 0,
      enrollPort: 0,
      apiPort: 0,
      log: createLogger("controller", "error"),
    });
  });

  afterAll(async () => {
    await controller?.close();
  });

  async function api(...args: string[]): Promise<string> {
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out += String(chunk);
      return true;
    });
    const ca = join(dir, "pki", "ca.crt");
    try {
      await controllerCli().parseAsync(
        ["node", "x", "api", "--url", controller.apiUrl, "--ca", ca, ...args],
        {
          from: "node",
        },
      );
    } finally {
      write.mockRestore();
    }
    return out;
  }

  it("creates a policy from a JSON file and lists it as a table and as JSON", async () => {
    const { token } = await createApiToken(controller.db, { name: "cli-admin", role: "admin" });
    const file = join(dir, "policy.json");
    await writeFile(
      file,
      JSON.stringify({ name: "fleet", schedule: "15 2 * * *", selector: { site: "lab" } }),
    );
    expect(await api("--token", token, "policies", "create", "--file", file)).toMatch(
      /^created policy fleet /,
    );
    expect(await api("--token", token, "policies", "list")).toMatch(
      /^NAME +SCHEDULE +SELECTOR +ENABLED +ID\nfleet +15 2 \* \* \* +\{"site":"lab"\} +true /,
    );
    const listed = JSON.parse(await api("--token", token, "--json", "policies", "list"));
    expect(listed).toEqual([expect.objectContaining({ name: "fleet", schedule: "15 2 * * *" })]);

    const id = listed[0].id as string;
    await writeFile(file, JSON.stringify({ schedule: "30 3 * * *", selector: {}, retention: null }));
    expect(await api("--token", token, "policies", "update", id, "--file", file)).toBe(
      `updated policy fleet (${id})\n`,
    );
    expect(JSON.parse(await api("--token", token, "policies", "show", id))).toMatchObject({
      schedule: "30 3 * * *",
      selector: {},
    });
    expect(await api("--token", token, "policies", "delete", id)).toBe(`deleted policy ${id}\n`);
    expect(JSON.parse(await api("--token", token, "--json", "policies", "list"))).toEqual([]);
  });

  it("shows hosts as a table and one host field by field", async () => {
    const { token } = await createApiToken(controller.db, { name: "cli-viewer", role: "viewer" });
    const host = await controller.db.host.create({ data: { name: "pi-cli", labels: { site: "lab" } } });
    expect(await api("--token", token, "hosts")).toMatch(
      /^NAME +STATE +REVOKED +SITE +AGENT +LAST SEEN +ID\npi-cli +offline +- /,
    );
    const detail = await api("--token", token, "host", host.id);
    expect(detail).toMatch(/^FIELD +VALUE\n/);
    expect(detail).toMatch(/\nlabels +\{"site":"lab"\}\n/);
  });

  it("revokes a host with `host revoke <id>` (operator) and lists it as revoked", async () => {
    const { token } = await createApiToken(controller.db, { name: "cli-operator", role: "operator" });
    const host = await controller.db.host.create({ data: { name: "pi-gone", labels: {} } });
    await controller.db.agentCertificate.create({
      data: { hostId: host.id, serial: "0a", fingerprintSha256: "a".repeat(64), notAfter: new Date(8e12) },
    });
    expect(await api("--token", token, "host", "revoke", host.id)).toBe(
      `revoked pi-gone (${host.id}): 1 certificate(s) revoked now, it had no open session here; ` +
        "the agent must enroll again with a new token\n",
    );
    const listed = JSON.parse(await api("--token", token, "--json", "hosts")) as {
      name: string;
      revokedAt: string;
    }[];
    expect(listed.find((h) => h.name === "pi-gone")?.revokedAt).toMatch(/^\d{4}-/);
  });

  it("reports a file that is not JSON by name", async () => {
    const { token } = await createApiToken(controller.db, { name: "cli-admin-2", role: "admin" });
    const file = join(dir, "broken.json");
    await writeFile(file, "{ name: ");
    await expect(api("--token", token, "policies", "create", "--file", file)).rejects.toThrow(`${file}: `);
  });
});
