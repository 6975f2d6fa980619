import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isRunning } from "../watchdog/cleanup.mjs";
import { watchPidFile } from "./pid-file.js";
import { stopAll } from "./resource-registry.js";
import { makeTempDir } from "./temp-dir.js";

describe("watchPidFile", () => {
  it("kills the daemon named in the file at stopAll, then removes its directory", async () => {
    const dir = makeTempDir("pidfile");
    const pidFile = join(dir, "daemon.pid");
    const daemon = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
    daemon.unref();
    writeFileSync(pidFile, `${daemon.pid}\n`);
    watchPidFile(pidFile);
    expect(isRunning(daemon.pid as number)).toBe(true);
    await stopAll();
    expect(isRunning(daemon.pid as number)).toBe(false);
  });
});
