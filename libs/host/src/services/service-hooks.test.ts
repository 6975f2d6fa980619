import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { serviceControlSchema } from "../definition/host-definition.js";
import { serviceHooks } from "./service-hooks.js";

afterAll(stopAll);

const savedPath = process.env.PATH;
afterEach(() => {
  process.env.PATH = savedPath;
});

/** A fake `systemctl`/`docker` on PATH that records its arguments: the real ones must not run in tests. */
function fakeTool(name: string): { calls: () => string[] } {
  const bin = makeTempDir("pwdr-fake-bin-");
  const log = join(bin, "calls.log");
  writeFileSync(join(bin, name), `#!/bin/sh\necho "$*" >> ${log}\n`);
  chmodSync(join(bin, name), 0o755);
  process.env.PATH = `${bin}:${savedPath}`;
  return { calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []) };
}

describe("service hooks", () => {
  it("runs plain shell commands", async () => {
    const dir = makeTempDir("pwdr-hooks-");
    const hooks = serviceHooks(
      serviceControlSchema.parse({
        type: "commands",
        stop: `echo stopped > ${dir}/state`,
        start: `echo started > ${dir}/state`,
      }),
      "the app",
    );
    await hooks.stop();
    expect(readFileSync(join(dir, "state"), "utf8")).toBe("stopped\n");
    await hooks.start();
    expect(readFileSync(join(dir, "state"), "utf8")).toBe("started\n");
  });

  it("drives systemd units and compose services with the right arguments", async () => {
    const systemctl = fakeTool("systemctl");
    const units = serviceHooks(
      serviceControlSchema.parse({ type: "systemd", units: ["piwardrive", "nginx"] }),
      "app",
    );
    await units.stop();
    await units.start();
    expect(systemctl.calls()).toEqual(["stop piwardrive nginx", "start piwardrive nginx"]);

    const docker = fakeTool("docker");
    const compose = serviceHooks(
      serviceControlSchema.parse({ type: "compose", file: "/opt/pw/compose.yml", services: ["api"] }),
      "app",
    );
    await compose.stop();
    await compose.start();
    expect(docker.calls()).toEqual([
      "compose -f /opt/pw/compose.yml stop api",
      "compose -f /opt/pw/compose.yml up -d api",
    ]);
  });

  it("fails with the purpose, the exit status and the end of stderr", async () => {
    const hooks = serviceHooks(
      serviceControlSchema.parse({
        type: "commands",
        stop: "echo 'unit not loaded' >&2; exit 5",
        start: "true",
      }),
      "the application services",
    );
    await expect(hooks.stop()).rejects.toMatchObject({
      code: "source_failed",
      message: "the stop of the application services (/bin/sh) exited with status 5: unit not loaded",
    });
  });

  it("gives up on a command that hangs past its time-out", async () => {
    const hooks = serviceHooks(
      serviceControlSchema.parse({ type: "commands", stop: "sleep 30", start: "true", timeoutMs: 300 }),
      "Redis",
    );
    await expect(hooks.stop()).rejects.toThrow(
      /the stop of Redis \(\/bin\/sh\) did not finish within 300 ms/,
    );
  });

  it("says when the program does not exist", async () => {
    process.env.PATH = makeTempDir("pwdr-empty-path-");
    const hooks = serviceHooks(serviceControlSchema.parse({ type: "systemd", units: ["x"] }), "app");
    await expect(hooks.start()).rejects.toThrow(/the start of app could not run systemctl: .*ENOENT/);
  });
});
