import { readdir, readFile, rm, stat } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "@pwdr/logging";
import {
  AgentStorageService,
  CONTROLLER_TLS_NAME,
  certificateFingerprint,
  clientCredentials,
  controllerChannelOptions,
  createClient,
} from "@pwdr/protocol";
import { LocalBackend, Repository } from "@pwdr/repo";
import { RemoteBackend } from "@pwdr/storage";
import { makeTempDir } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "../api-tokens.js";
import { type RunningController, startController } from "../controller-server.js";
import { type EnrolledTestHost, enrollTestHost } from "../test-support/test-agent.js";
import { masterKeyPath } from "./master-key.js";
import { ACCESS_CACHE_MS, authorizeAgents } from "./storage-access.js";

const FAST_KDF = { N: 1024, r: 8, p: 1 };

let controller: RunningController;
let dataDir: string;
const logLines: string[] = [];

function capturingLogger(): Logger {
  const write = (msg: string, fields?: Record<string, unknown>) => {
    logLines.push(JSON.stringify({ msg, ...fields }));
  };
  return { debug: write, info: write, warn: write, error: write };
}

beforeAll(async () => {
  dataDir = await makeTempDir("pwdr-fleet-storage-");
  controller = await startController({
    dataDir,
    sessionPort: 0,
    enrollPort: 0,
    storagePort: 0,
    repositoryKdf: FAST_KDF,
    log: capturingLogger(),
  });
});

afterAll(async () => {
  await controller?.close();
});

type EnrolledAgent = EnrolledTestHost;

const enroll = (hostname: string): Promise<EnrolledAgent> => enrollTestHost(controller, hostname);

async function repositoryAccess(agent: EnrolledAgent) {
  const client = createClient(
    AgentStorageService,
    controller.sessionAddress,
    clientCredentials({ caPem: controller.pki.ca.certPem, identity: agent.identity }),
    controllerChannelOptions(),
  );
  try {
    return await client.getRepositoryAccess({});
  } finally {
    client.grpcClient.close();
  }
}

function remoteBackend(agent: EnrolledAgent, repository: string): RemoteBackend {
  return new RemoteBackend({
    url: controller.storageUrl,
    repository,
    ca: controller.pki.ca.certPem,
    cert: agent.identity.certPem,
    key: agent.identity.keyPem,
    servername: CONTROLLER_TLS_NAME,
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

function apiGet(path: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(`/api/v1${path}`, controller.apiUrl),
      { ca: controller.pki.ca.certPem, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve(body));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("host repositories on the controller", () => {
  it("are created at enrollment, in <data-dir>/repos/<host id>, with a catalog row", async () => {
    const agent = await enroll("pi-repo");
    const row = await controller.db.repository.findUniqueOrThrow({ where: { name: agent.hostId } });
    expect(row).toMatchObject({ kind: "controller", location: agent.hostId });
    const dir = join(dataDir, "repos", agent.hostId);
    expect((await stat(join(dir, "config"))).isFile()).toBe(true);

    const access = await repositoryAccess(agent);
    expect(access.repository).toBe(agent.hostId);
    expect(access.storagePort).toBe(Number(new URL(controller.storageUrl).port));
    const repo = await Repository.open(new LocalBackend(dir), access.password);
    await repo.close();
  });

  it("keep the password only encrypted: not in any file of the data dir, the catalog, the API or the log", async () => {
    const agent = await enroll("pi-secret");
    const { password } = await repositoryAccess(agent);
    expect(password.length).toBeGreaterThanOrEqual(32);

    for (const file of await filesUnder(dataDir)) {
      expect((await readFile(file)).includes(password), file).toBe(false);
    }
    const row = await controller.db.repository.findUniqueOrThrow({ where: { name: agent.hostId } });
    expect(Buffer.from(row.passwordCiphertext).includes(password)).toBe(false);
    expect(JSON.stringify(row)).not.toContain(password);
    expect((await stat(masterKeyPath(dataDir))).mode & 0o777).toBe(0o600);

    const { token } = await createApiToken(controller.db, { name: "fleet-storage-test", role: "admin" });
    for (const path of ["/hosts", `/hosts/${agent.hostId}`, "/audit-events", "/policies"]) {
      const body = await apiGet(path, token);
      expect(body.length).toBeGreaterThan(2);
      expect(body, path).not.toContain(password);
    }
    expect(logLines.join("\n")).not.toContain(password);
  });

  it("are initialised on the next request, with the stored password, when the directory is missing (a crash between catalog row and init)", async () => {
    const agent = await enroll("pi-crash");
    const dir = join(dataDir, "repos", agent.hostId);
    const { password: before } = await repositoryAccess(agent);
    await rm(dir, { recursive: true });
    const { password: after } = await repositoryAccess(agent);
    expect(after).toBe(before);
    const repo = await Repository.open(new LocalBackend(dir), after);
    await repo.close();
  });

  it("are handed only to a valid certificate: a revoked one is PERMISSION_DENIED, as on the session port", async () => {
    const agent = await enroll("pi-revoked-storage");
    await controller.db.agentCertificate.updateMany({
      where: { hostId: agent.hostId },
      data: { revokedAt: new Date() },
    });
    await expect(repositoryAccess(agent)).rejects.toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: expect.stringContaining("revoked"),
    });
  });
});

describe("storage access", () => {
  it("gives an agent append access to its own host's repository only", async () => {
    const [a, b] = await Promise.all([enroll("pi-a"), enroll("pi-b")]);
    let clock = Date.now();
    const authorize = authorizeAgents(controller.db, () => clock);
    const identityOf = (agent: EnrolledAgent) => ({
      commonName: agent.hostId,
      serialNumber: "00",
      fingerprintSha256: certificateFingerprint(agent.identity.certPem),
      notAfter: new Date(Date.now() + 60_000),
    });
    expect(await authorize({ identity: identityOf(a), repository: a.hostId })).toBe("append");
    expect(await authorize({ identity: identityOf(a), repository: b.hostId })).toBeUndefined();
    expect(
      await authorize({
        identity: { ...identityOf(a), fingerprintSha256: "00".repeat(32) },
        repository: a.hostId,
      }),
    ).toBeUndefined();

    await controller.db.agentCertificate.updateMany({
      where: { hostId: b.hostId },
      data: { notAfter: new Date(Date.now() - 1_000) },
    });
    expect(await authorize({ identity: identityOf(b), repository: b.hostId })).toBeUndefined();
    await controller.db.host.update({ where: { id: a.hostId }, data: { state: "decommissioned" } });
    // A granted access is trusted for ACCESS_CACHE_MS, then the catalog decides again.
    expect(await authorize({ identity: identityOf(a), repository: a.hostId })).toBe("append");
    clock += ACCESS_CACHE_MS + 1;
    expect(await authorize({ identity: identityOf(a), repository: a.hostId })).toBeUndefined();
    await controller.db.host.update({ where: { id: a.hostId }, data: { state: "online" } });
    expect(await authorize({ identity: identityOf(a), repository: a.hostId })).toBe("append");
  });

  it("lets an agent open its repository over mutual TLS, not write its keys, and not read another host's", async () => {
    const [a, b] = await Promise.all([enroll("pi-remote-a"), enroll("pi-remote-b")]);
    const { password } = await repositoryAccess(a);
    const own = remoteBackend(a, a.hostId);
    const repo = await Repository.open(own, password);
    expect(repo.id).toMatch(/\w+/);
    await expect(own.save({ type: "keys", name: "ab".repeat(32) }, Buffer.from("x"))).rejects.toMatchObject({
      code: "access_denied",
    });
    await repo.close();

    const foreign = remoteBackend(a, b.hostId);
    await expect(foreign.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "access_denied",
    });
    await foreign.close();
  });
});
