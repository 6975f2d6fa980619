import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const PACKAGING = join(import.meta.dirname, "../../../packaging");

describe("packaging", () => {
  it("the launcher runs the built agent and sets the allocator and V8 memory limits", () => {
    const r = spawnSync(join(PACKAGING, "pwdr-agent"), ["config", "init"], {
      encoding: "utf8",
      env: { ...process.env, MALLOC_ARENA_MAX: "" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("repository:");
    const script = readFileSync(join(PACKAGING, "pwdr-agent"), "utf8");
    expect(script).toMatch(/MALLOC_ARENA_MAX:=2/);
    expect(script).toMatch(/--max-semi-space-size=2/);
  });

  it("the systemd unit starts the daemon through the launcher the install script links", () => {
    const unit = readFileSync(join(PACKAGING, "pwdr-agent.service"), "utf8");
    expect(unit).toMatch(
      /^ExecStart=\/usr\/local\/bin\/pwdr-agent daemon --config \/etc\/pwdr\/agent\.yaml$/m,
    );
    expect(unit).toMatch(/^User=pwdr$/m);
    const install = readFileSync(join(PACKAGING, "install-agent.sh"), "utf8");
    expect(install).toContain('ln -sf "$prefix/packaging/pwdr-agent" /usr/local/bin/pwdr-agent');
  });
});
