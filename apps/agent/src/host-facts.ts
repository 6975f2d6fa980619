import { statfs } from "node:fs/promises";
import { arch, hostname, platform, release } from "node:os";
import { create } from "@bufbuild/protobuf";
import { type HostFacts, HostFactsSchema } from "@pwdr/protocol";
import { AGENT_VERSION } from "./agent-version.js";

/** Facts about this host for Hello and Enroll; `dataDir` is where disk space is measured. */
export async function collectHostFacts(
  dataDir: string,
  labels: Record<string, string> = {},
): Promise<HostFacts> {
  const fs = await statfs(dataDir);
  return create(HostFactsSchema, {
    hostname: hostname(),
    os: platform(),
    arch: arch(),
    osRelease: release(),
    agentVersion: AGENT_VERSION,
    diskFreeBytes: BigInt(fs.bavail) * BigInt(fs.bsize),
    diskTotalBytes: BigInt(fs.blocks) * BigInt(fs.bsize),
    labels,
  });
}
