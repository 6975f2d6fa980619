import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTestCa, makeTempDir } from "@pwdr/test-harness";
import { describe, expect, it } from "vitest";
import { type AgentIdentity, loadIdentity, replaceTlsIdentity, saveIdentity } from "./agent-identity.js";

const ca = await createTestCa();

async function enrolled(): Promise<{ dataDir: string; identity: AgentIdentity }> {
  const dataDir = await makeTempDir("pwdr-identity-");
  const identity: AgentIdentity = {
    hostId: "host-1",
    hostName: "pi",
    sessionAddress: "127.0.0.1:1",
    caPem: ca.ca.certPem,
    tls: await ca.issueClient("host-1"),
  };
  await saveIdentity(dataDir, identity);
  return { dataDir, identity };
}

describe("agent identity on disk", () => {
  it("replaces key and certificate together, the key readable by the owner only", async () => {
    const { dataDir } = await enrolled();
    const next = await ca.issueClient("host-1");
    await replaceTlsIdentity(dataDir, next);
    expect((await loadIdentity(dataDir)).tls).toEqual(next);
    expect(statSync(join(dataDir, "identity", "agent.key")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dataDir, "identity", "agent.crt.next"))).toBe(false);
  });

  it("finishes a replacement a crash interrupted after the certificate was staged", async () => {
    const { dataDir } = await enrolled();
    const next = await ca.issueClient("host-1");
    const dir = join(dataDir, "identity");
    await writeFile(join(dir, "agent.key.next"), next.keyPem, { mode: 0o600 });
    await writeFile(join(dir, "agent.crt.next"), next.certPem);
    expect((await loadIdentity(dataDir)).tls).toEqual(next);
  });

  it("keeps the old pair when a crash came before the certificate was staged", async () => {
    const { dataDir, identity } = await enrolled();
    const next = await ca.issueClient("host-1");
    await writeFile(join(dataDir, "identity", "agent.key.next"), next.keyPem, { mode: 0o600 });
    expect((await loadIdentity(dataDir)).tls).toEqual(identity.tls);
  });
});
