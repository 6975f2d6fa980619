import { existsSync } from "node:fs";
import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic, writePrivateKeyFile } from "@pwdr/pki";
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
const KEY = "agent.key";
const CERT = "agent.crt";
const NEXT = ".next";

export async function saveIdentity(dataDir: string, identity: AgentIdentity): Promise<void> {
  const dir = dirOf(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await replaceTlsIdentity(dataDir, identity.tls);
  await writeFile(join(dir, "ca.crt"), identity.caPem);
  const meta = {
    hostId: identity.hostId,
    hostName: identity.hostName,
    sessionAddress: identity.sessionAddress,
  };
  await writeFile(join(dir, "identity.json"), `${JSON.stringify(meta, null, 2)}\n`);
}

/**
 * Replaces key and certificate as one: both are staged as `*.next` files, the certificate
 * last, so a complete `agent.crt.next` means the pair is ready. A crash at any point leaves
 * the old pair or the new one, never a key with another key's certificate.
 */
export async function replaceTlsIdentity(dataDir: string, tls: TlsIdentity): Promise<void> {
  const dir = dirOf(dataDir);
  await writePrivateKeyFile(join(dir, KEY + NEXT), tls.keyPem);
  await writeFileAtomic(join(dir, CERT + NEXT), tls.certPem, 0o644);
  await finishReplacement(dir);
}

/**
 * Completes a replacement that a crash interrupted after its commit point. A lone staged key
 * (a crash before it) is left alone: the next replacement overwrites it first.
 */
async function finishReplacement(dir: string): Promise<void> {
  const stagedKey = join(dir, KEY + NEXT);
  if (!existsSync(join(dir, CERT + NEXT))) return;
  if (existsSync(stagedKey)) await rename(stagedKey, join(dir, KEY));
  await rename(join(dir, CERT + NEXT), join(dir, CERT));
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function loadIdentity(dataDir: string): Promise<AgentIdentity> {
  const dir = dirOf(dataDir);
  if (!existsSync(join(dir, "identity.json"))) throw new NotEnrolledError(dataDir);
  await finishReplacement(dir);
  const meta = JSON.parse(await readFile(join(dir, "identity.json"), "utf8")) as Omit<
    AgentIdentity,
    "caPem" | "tls"
  >;
  return {
    ...meta,
    caPem: await readFile(join(dir, "ca.crt"), "utf8"),
    tls: {
      certPem: await readFile(join(dir, CERT), "utf8"),
      keyPem: await readFile(join(dir, KEY), "utf8"),
    },
  };
}
