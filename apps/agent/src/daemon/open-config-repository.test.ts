import { join } from "node:path";
import { isRepoError } from "@pwdr/repo";
import { createTestCa, freePort, makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { saveIdentity } from "../agent-identity.js";
import { type AgentConfig, agentConfigSchema } from "../config/agent-config.js";
import { storageUrl } from "../controller-repository.js";
import { openConfigRepository } from "./open-config-repository.js";

function controllerConfig(stateDir: string): AgentConfig {
  return agentConfigSchema.parse({
    stateDir,
    repository: { controller: true },
    sources: [{ kind: "files", name: "data", paths: ["/data"] }],
    schedules: { backup: "0 2 * * *" },
  });
}

describe("a repository on the controller", () => {
  it("needs the agent enrolled first, and says how", async () => {
    const config = controllerConfig(join(await makeTempDir("pwdr-agent-"), "state"));
    await expect(openConfigRepository(config)).rejects.toThrow(/run `pwdr-agent enroll/);
  });

  it("is backend_unavailable (retried) while the controller cannot be reached", async () => {
    const stateDir = await makeTempDir("pwdr-agent-");
    const ca = await createTestCa();
    const tls = await ca.issueClient("host-1");
    await saveIdentity(stateDir, {
      hostId: "host-1",
      hostName: "pi",
      sessionAddress: `127.0.0.1:${await freePort()}`,
      caPem: ca.ca.certPem,
      tls: { certPem: tls.certPem, keyPem: tls.keyPem },
    });
    const err = await openConfigRepository(controllerConfig(stateDir)).catch((e: unknown) => e);
    expect(isRepoError(err, "backend_unavailable"), String(err)).toBe(true);
    expect(String(err)).toContain("cannot get the repository from the controller at 127.0.0.1:");
  }, 40_000);

  it("is dialled at the host the agent reaches the controller at", () => {
    expect(storageUrl("controller.lan:7443", 7446)).toBe("https://controller.lan:7446");
    expect(storageUrl("[fd00::1]:7443", 7446)).toBe("https://[fd00::1]:7446");
  });
});
