import { describe, expect, it } from "vitest";
import { agentConfigSchema } from "./agent-config.js";

const base = {
  sources: [{ kind: "files", name: "data", paths: ["/data"] }],
  schedules: { backup: "0 2 * * *" },
};

function issues(repository: object, extra: object = {}): string[][] {
  const result = agentConfigSchema.safeParse({ ...base, repository, ...extra });
  return (result.error?.issues ?? []).map((i) => [i.path.join("."), i.message]);
}

describe("repository in the agent config", () => {
  it("takes controller: true with an optional data dir and bandwidth limit", () => {
    expect(issues({ controller: true })).toEqual([]);
    expect(issues({ controller: true, dataDir: "/var/lib/pwdr-agent", bandwidthLimit: "2M" })).toEqual([]);
  });

  it("wants exactly one of path or controller", () => {
    expect(issues({ path: "/srv/repo", passwordFile: "/etc/pw", controller: true })).toEqual([
      ["repository.controller", "give exactly one of path or controller: true"],
    ]);
    expect(issues({ bandwidthLimit: "1M" })).toEqual([
      ["repository.path", "give exactly one of path or controller: true"],
    ]);
    expect(issues({ controller: false })[0]?.[0]).toBe("repository.controller");
  });

  it("refuses a password for the controller's storage and a data dir for a local path", () => {
    expect(issues({ controller: true, passwordEnv: "PW" })).toEqual([
      [
        "repository.passwordEnv",
        "the controller holds the password of the repositories it stores; remove this",
      ],
    ]);
    expect(issues({ path: "/srv/repo", passwordFile: "/etc/pw", dataDir: "/var/lib/x" })).toEqual([
      ["repository.dataDir", "dataDir is for controller: true; a local repository does not use it"],
    ]);
  });

  it("refuses retention on the controller's storage: the agent may only add data, prune runs on the controller", () => {
    const found = issues(
      { controller: true },
      { retention: { keepDaily: 7 }, schedules: { backup: "0 2 * * *", retention: "0 3 * * *" } },
    );
    expect(found.map(([path]) => path)).toEqual(["retention", "schedules.retention"]);
    expect(found[0]?.[1]).toMatch(/prune runs on the controller/);
  });
});
