// A controller and its agents as real processes on loopback, for the fleet
// end-to-end tests: fixed ports (so a restarted controller keeps its
// addresses), enrollment through the CLIs, and the REST API over HTTPS.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Catalog, openCatalog } from "@pwdr/catalog";
import { freePort } from "@pwdr/test-harness";
import { expect } from "vitest";
import { AGENT_MAIN, CONTROLLER_MAIN, DaemonProcess, runCli } from "./cli-process.js";
import { HttpsJson } from "./https-json.js";

export interface ControllerPorts {
  session: number;
  enroll: number;
  api: number;
  storage: number;
}

export interface ControllerSetup {
  dataDir: string;
  /** Catalog URL; the embedded SQLite file in the data dir when omitted. */
  catalogUrl?: string;
  /** More `serve` options, e.g. ["--scheduler-interval", "1s"]. */
  serveArgs?: string[];
}

/** A `pwdr-controller serve` process that can be stopped, killed and started again on the same ports. */
export class ControllerProcess {
  process: DaemonProcess | undefined;
  /** When the current process was started (ms since the epoch). */
  startedAt = 0;
  #ports: ControllerPorts | undefined;
  #adminToken: string | undefined;

  constructor(readonly setup: ControllerSetup) {}

  get dataDir(): string {
    return this.setup.dataDir;
  }

  get ports(): ControllerPorts {
    if (!this.#ports) throw new Error("the controller has not been started");
    return this.#ports;
  }

  get enrollAddress(): string {
    return `127.0.0.1:${this.ports.enroll}`;
  }

  get apiUrl(): string {
    return `https://127.0.0.1:${this.ports.api}`;
  }

  get caPem(): string {
    return readFileSync(join(this.dataDir, "pki", "ca.crt"), "utf8");
  }

  async start(): Promise<void> {
    this.#ports ??= {
      session: await freePort(),
      enroll: await freePort(),
      api: await freePort(),
      storage: await freePort(),
    };
    const { session, enroll, api, storage } = this.#ports;
    this.startedAt = Date.now();
    this.process = new DaemonProcess(CONTROLLER_MAIN, [
      "serve",
      "--data-dir",
      this.dataDir,
      ...(this.setup.catalogUrl ? ["--catalog", this.setup.catalogUrl] : []),
      "--session-port",
      String(session),
      "--enroll-port",
      String(enroll),
      "--api-port",
      String(api),
      "--storage-port",
      String(storage),
      ...(this.setup.serveArgs ?? []),
    ]);
    await this.process.waitForLog("controller started", 60_000);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    await this.process?.stop(signal);
    this.process = undefined;
  }

  /** An admin API token, created once with the local CLI (as an operator bootstraps one). */
  async adminToken(): Promise<string> {
    if (this.#adminToken) return this.#adminToken;
    const created = await runCli(CONTROLLER_MAIN, [
      "api-token",
      "create",
      "--name",
      "e2e-admin",
      "--role",
      "admin",
      "--data-dir",
      this.dataDir,
      ...(this.setup.catalogUrl ? ["--catalog", this.setup.catalogUrl] : []),
    ]);
    expect(created.code, created.stderr).toBe(0);
    this.#adminToken = created.stdout.trim();
    return this.#adminToken;
  }

  async api(): Promise<HttpsJson> {
    return new HttpsJson(this.apiUrl, await this.adminToken(), this.caPem);
  }

  /** The catalog the controller writes, opened beside it to count rows. */
  openCatalog(): Promise<{ db: Catalog; close(): Promise<void> }> {
    return openCatalog({ url: this.setup.catalogUrl ?? `file:${join(this.dataDir, "catalog.db")}` });
  }
}

export interface EnrolledAgent {
  name: string;
  hostId: string;
  /** The agent's data dir: identity from `enroll`, and its state dir in these tests. */
  dataDir: string;
}

/** Creates a one-time token through the API and trades it with `pwdr-agent enroll`. */
export async function enrollAgent(
  controller: ControllerProcess,
  name: string,
  dataDir: string,
  labels: Record<string, string>,
): Promise<EnrolledAgent> {
  const api = await controller.api();
  const { token } = await api.post<{ token: string }>("/api/v1/enrollment-tokens", {
    ttl: "10m",
    labels: { ...labels, name },
  });
  const enrolled = await runCli(AGENT_MAIN, [
    "enroll",
    "--controller",
    controller.enrollAddress,
    "--token",
    token,
    "--data-dir",
    dataDir,
    "--json",
  ]);
  expect(enrolled.code, enrolled.stderr).toBe(0);
  return { name, hostId: JSON.parse(enrolled.stdout).hostId, dataDir };
}

/** Whether the agent has opened a session with the controller's current process. */
export function connectedSince(agent: DaemonProcess, since: number): boolean {
  return agent.lines.some((l) => l.msg === "connected to controller" && Date.parse(String(l.time)) >= since);
}

/** `pwdr-agent daemon -c <config>` as a process whose JSON log can be awaited. */
export function startAgentDaemon(config: string): DaemonProcess {
  return new DaemonProcess(AGENT_MAIN, ["daemon", "-c", config]);
}

/** Polls `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
