import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { agentConfigSchema } from "./agent-config.js";
import { loadAgentConfig } from "./load-agent-config.js";

const base = {
  repository: { path: "/srv/repo", passwordFile: "/etc/pw" },
  sources: [{ kind: "files", name: "data", paths: ["/data"] }],
};

describe("controller in the agent config", () => {
  it("makes schedules optional, and asks for them without a controller", () => {
    const linked = agentConfigSchema.parse({ ...base, controller: { dataDir: "/var/lib/pwdr-agent" } });
    expect(linked.controller).toEqual({ dataDir: "/var/lib/pwdr-agent", catchUpGraceMs: 20_000 });
    expect(linked.schedules).toBeUndefined();
    const alone = agentConfigSchema.safeParse(base);
    expect(alone.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["schedules", "give schedules (at least schedules.backup), or a controller whose policy provides them"],
    ]);
  });

  it("names the key, line and column of a bad controller entry", async () => {
    const file = join(makeTempDir("pwdr-controller-config-"), "agent.yaml");
    writeFileSync(
      file,
      [
        "repository: { path: /srv/repo, passwordFile: /etc/pw }",
        "sources: [{ kind: files, name: data, paths: [/data] }]",
        "controller:",
        "  dataDir: var/lib/pwdr-agent",
        "  token: abc",
        "",
      ].join("\n"),
    );
    const err = await loadAgentConfig(file).then(
      () => new Error("the config loaded"),
      (e: unknown) => e as Error,
    );
    expect(err.message).toMatch(/4:12 controller\.dataDir: must be an absolute path/);
    expect(err.message).toMatch(/5:\d+ controller.*token/);
  });
});
