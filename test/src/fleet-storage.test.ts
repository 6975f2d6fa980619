import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  AgentStorageService,
  CONTROLLER_TLS_NAME,
  clientCredentials,
  controllerChannelOptions,
  createClient,
} from "@pwdr/protocol";
import { RemoteBackend } from "@pwdr/storage";
import { makeTempDir, type PostgresServer, startPostgres, stopAll } from "@pwdr/test-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_MAIN, CONTROLLER_MAIN, DaemonProcess, runCli } from "./cli-process.js";
import { digests, filesUnder, psql } from "./source-probes.js";

afterAll(stopAll);

interface Enrolled {
  hostId: string;
  dir: string;
  config: string;
}

describe("fleet storage: agents back up into the controller over mutual TLS (real processes)", () => {
  let dir: string;
  let controller: DaemonProcess;
  let enrollAddress: string;
  let storageUrl: string;
  let pg: PostgresServer;
  let data: string;
  let hostA: Enrolled;
  let hostB: Enrolled;
  const controllerDir = () => join(dir, "controller");
  const agent = (host: Enrolled, ...args: string[]) =>
    runCli(AGENT_MAIN, [...args, "-c", host.config, "--json"], 120_000);

  async function enroll(name: string, sourcesYaml: string): Promise<Enrolled> {
    const token = (
      await runCli(CONTROLLER_MAIN, ["token", "create", "--ttl", "5m", "--data-dir", controllerDir()])
    ).stdout.trim();
    const agentDir = join(dir, name);
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
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const config = join(agentDir, "agent.yaml");
    writeFileSync(
      config,
      `host: ${name}
stateDir: ${join(agentDir, "state")}
repository: { controller: true, dataDir: ${agentDir} }
sources:
${sourcesYaml}
schedules: { backup: "0 2 * * *" }
`,
    );
    return { hostId: JSON.parse(enrolled.stdout).hostId, dir: agentDir, config };
  }

  /** What the agent is handed, fetched here the same way to look for it where it must not be. */
  async function repositoryPassword(host: Enrolled): Promise<string> {
    const identity = join(host.dir, "identity");
    const client = createClient(
      AgentStorageService,
      JSON.parse(readFileSync(join(identity, "identity.json"), "utf8")).sessionAddress,
      clientCredentials({
        caPem: readFileSync(join(identity, "ca.crt"), "utf8"),
        identity: {
          certPem: readFileSync(join(identity, "agent.crt"), "utf8"),
          keyPem: readFileSync(join(identity, "agent.key"), "utf8"),
        },
      }),
      controllerChannelOptions(),
    );
    try {
      return (await client.getRepositoryAccess({})).password;
    } finally {
      client.grpcClient.close();
    }
  }

  function remoteAs(host: Enrolled, repository: string): RemoteBackend {
    const identity = join(host.dir, "identity");
    return new RemoteBackend({
      url: storageUrl,
      repository,
      ca: readFileSync(join(identity, "ca.crt"), "utf8"),
      cert: readFileSync(join(identity, "agent.crt"), "utf8"),
      key: readFileSync(join(identity, "agent.key"), "utf8"),
      servername: CONTROLLER_TLS_NAME,
    });
  }

  beforeAll(async () => {
    dir = makeTempDir("pwdr-e2e-fleet-");
    pg = await startPostgres({ databases: ["piwardrive"] });
    psql(
      pg,
      "piwardrive",
      "CREATE TABLE scans (id serial PRIMARY KEY, ssid text); INSERT INTO scans (ssid) SELECT 'net-' || g FROM generate_series(1, 500) g",
    );
    data = join(dir, "data");
    mkdirSync(join(data, "scans"), { recursive: true });
    for (let i = 0; i < 5; i++)
      writeFileSync(join(data, "scans", `wifi-${i}.json`), `{"i":${i}}`.repeat(200 * (i + 1)));
    controller = new DaemonProcess(CONTROLLER_MAIN, [
      "serve",
      "--data-dir",
      controllerDir(),
      "--session-port",
      "0",
      "--enroll-port",
      "0",
      "--api-port",
      "0",
      "--storage-port",
      "0",
    ]);
    const started = await controller.waitForLog("controller started");
    enrollAddress = String(started.enrollAddress);
    storageUrl = String(started.storageUrl);
    expect(storageUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    hostA = await enroll(
      "pi-a",
      `  - { kind: postgres, name: db, connection: { port: ${pg.port}, binDir: ${pg.binDir} }, databases: [piwardrive] }
  - { kind: files, name: data, paths: [${data}] }`,
    );
    hostB = await enroll("pi-b", `  - { kind: files, name: data, paths: [${data}] }`);
  }, 180_000);

  afterAll(async () => {
    await controller?.stop();
  });

  it("backs up host A into <controller data dir>/repos/<host id>, lists it, and restores through the controller", async () => {
    const backup = await agent(hostA, "now", "backup");
    expect(backup.code, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({ job: "backup", status: "ok" });

    const repoDir = join(controllerDir(), "repos", hostA.hostId);
    expect(readdirSync(join(repoDir, "snapshots")).length).toBeGreaterThanOrEqual(2);
    expect(filesUnder(join(repoDir, "data")).length).toBeGreaterThan(0);

    // check takes and releases a lock: the append-only rules let an agent remove its own.
    const check = await agent(hostA, "now", "check");
    expect(check.code, check.stderr).toBe(0);
    expect(readdirSync(join(repoDir, "locks"))).toEqual([]);

    const points = await agent(hostA, "host", "points");
    expect(points.code, points.stderr).toBe(0);
    const listed = JSON.parse(points.stdout) as { host: string; status: string }[];
    expect(listed.map((p) => `${p.host}:${p.status}`)).toEqual(["pi-a:complete"]);

    const before = {
      files: digests(data),
      rows: psql(pg, "piwardrive", "SELECT count(*), max(ssid) FROM scans"),
    };
    rmSync(data, { recursive: true });
    psql(pg, "postgres", "DROP DATABASE piwardrive");
    const restore = await agent(hostA, "host", "restore", "latest", "--yes");
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout).status).toBe("done");
    expect(digests(data)).toEqual(before.files);
    expect(psql(pg, "piwardrive", "SELECT count(*), max(ssid) FROM scans")).toBe(before.rows);
  }, 240_000);

  it("keeps the password off the agent's disk and out of the controller's files and log", async () => {
    const password = await repositoryPassword(hostA);
    for (const file of [...filesUnder(hostA.dir), ...filesUnder(controllerDir())]) {
      expect(readFileSync(file).includes(password), file).toBe(false);
    }
    expect(controller.stderr).not.toContain(password);
  });

  it("gives host A no access to host B's repository and no way to delete its own snapshots", async () => {
    const backupB = await agent(hostB, "now", "backup");
    expect(backupB.code, backupB.stderr).toBe(0);

    const intoB = remoteAs(hostA, hostB.hostId);
    await expect(intoB.stat({ type: "config", name: "config" })).rejects.toMatchObject({
      code: "access_denied",
    });
    await intoB.close();

    const own = remoteAs(hostA, hostA.hostId);
    const snapshots: string[] = [];
    for await (const file of own.list("snapshots")) snapshots.push(file.name);
    expect(snapshots.length).toBeGreaterThanOrEqual(2);
    await expect(own.remove({ type: "snapshots", name: snapshots[0] ?? "" })).rejects.toMatchObject({
      code: "access_denied",
    });
    await own.close();
    expect(readdirSync(join(controllerDir(), "repos", hostA.hostId, "snapshots")).length).toBe(
      snapshots.length,
    );
  }, 120_000);

  it("refuses retention for a controller-stored repository with a config error", async () => {
    const config = join(hostA.dir, "retention.yaml");
    writeFileSync(config, `${readFileSync(hostA.config, "utf8")}retention: { keepLast: 3 }\n`);
    const checked = await runCli(AGENT_MAIN, ["config", "check", "-c", config]);
    expect(checked.code).not.toBe(0);
    expect(checked.stderr).toMatch(/retention: .*prune runs on the controller/);
  });
});
