import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writePrivateKeyFile } from "@pwdr/pki";
import type { TlsIdentity } from "@pwdr/protocol";

/** What enrollment leaves in `<dataDir>/identity`: the agent's key, its certificate and the controller's CA. */
export interface AgentIdentity {
  hostId: string;
  hostName: string;
  sessionAddress: string;
  caPem: string;
  tls: TlsIdentity;
}

export class NotEnrolledError extends Error {
  readonly code = "agent_not_enrolled";
  constructor(dataDir: string) {
    super(
      `no agent identity in ${dataDir}; run \`pwdr-agent enroll --controller <host:port> --token <token>\` first`,
    );
    this.name = "NotEnrolledError";
  }
}

const dirOf = (dataDir: string) => join(dataDir, "identity");

export async function saveIdentity(dataDir: string, identity: AgentIdentity): Promise<void> {
  const dir = dirOf(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writePrivateKeyFile(join(dir, "agent.key"), identity.tls.keyPem);
  await writeFile(join(dir, "agent.crt"), identity.tls.certPem);
  await writeFile(join(dir, "ca.crt"), identity.caPem);
  const meta = {
    hostId: identity.hostId,
    hostName: identity.hostName,
    sessionAddress: identity.sessionAddress,
  };
  await writeFile(join(dir, "identity.json"), `${JSON.stringify(meta, null, 2)}\n`);
}

export async function loadIdentity(dataDir: string): Promise<AgentIdentity> {
  const dir = dirOf(dataDir);
  if (!existsSync(join(dir, "identity.json"))) throw new NotEnrolledError(dataDir);
  const meta = JSON.parse(await readFile(join(dir, "identity.json"), "utf8")) as Omit<
    AgentIdentity,
    "caPem" | "tls"
  >;
  return {
    ...meta,
    caPem: await readFile(join(dir, "ca.crt"), "utf8"),
    tls: {
      certPem: await readFile(join(dir, "agent.crt"), "utf8"),
      keyPem: await readFile(join(dir, "agent.key"), "utf8"),
    },
  };
}
