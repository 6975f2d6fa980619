// What the dashboard's browser test needs besides the fleet fixture: the
// built app, Debian's chromium driven by playwright-core, light agents (one
// files source, no-op services, a health check served by the test), and a
// place for screenshots.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { freePort } from "@pwdr/test-harness";
import { type Browser, chromium } from "playwright-core";

const ROOT = join(import.meta.dirname, "..", "..");
export const SCREENSHOTS = join(ROOT, "test-artifacts", "dashboard");
export const CHROMIUM = process.env.PWDR_CHROMIUM ?? "/usr/bin/chromium";

/** Builds apps/dashboard/dist (esbuild: well under a second), so the test never serves a stale app. */
export function buildDashboard(): void {
  const built = spawnSync(process.execPath, [join(ROOT, "apps/dashboard/build.mjs")], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`dashboard build failed: ${built.stderr}`);
}

export function launchChromium(): Promise<Browser> {
  // Root in CI: Chromium's sandbox needs user namespaces a container may not give.
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
}

/** A stand-in for the application's health endpoint, which the DR run's verify-health step polls. */
export async function startHealthServer(): Promise<{ url: string; server: Server }> {
  const port = await freePort();
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
  });
  await new Promise<void>((ok) => server.listen(port, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${port}/health`, server };
}

export interface LightAgentOptions {
  name: string;
  agentDir: string;
  dataDir: string;
  healthUrl: string;
  /** Slows backups down (bytes per second, e.g. "1M") so their progress can be watched. */
  bandwidthLimit?: string;
}

/** An agent config with one files source in the controller's storage; services and health are harmless. */
export function writeLightAgentConfig(options: LightAgentOptions): string {
  const { name, agentDir, dataDir, healthUrl, bandwidthLimit } = options;
  mkdirSync(dataDir, { recursive: true });
  const config = join(agentDir, "agent.yaml");
  const limit = bandwidthLimit ? `, bandwidthLimit: ${bandwidthLimit}` : "";
  writeFileSync(
    config,
    `host: ${name}
stateDir: ${join(agentDir, "state")}
controller: { dataDir: ${agentDir} }
repository: { controller: true, dataDir: ${agentDir}${limit} }
sources:
  - { kind: files, name: data, paths: [${dataDir}] }
services: { type: commands, stop: "true", start: "true" }
health: { url: "${healthUrl}", attempts: 10, intervalMs: 200 }
`,
  );
  return config;
}
