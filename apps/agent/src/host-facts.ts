import { statfs } from "node:fs/promises";
import { arch, hostname, platform, release } from "node:os";
import { dirname } from "node:path";
import { create } from "@bufbuild/protobuf";
import { type HostFacts, HostFactsSchema } from "@pwdr/protocol";
import { AGENT_VERSION } from "./agent-version.js";

interface Space {
  free: bigint;
  total: bigint;
}

/**
 * Facts about this host for Hello and Enroll. Disk space is that of the
 * fullest file system among `dataDir` and `restoreTargets` (the directories
 * a restore writes into; a missing one counts as its nearest existing
 * parent): the least room a restore onto this host has.
 */
export async function collectHostFacts(
  dataDir: string,
  labels: Record<string, string> = {},
  restoreTargets: readonly string[] = [],
): Promise<HostFacts> {
  const own = await spaceOf(dataDir);
  const targets = await Promise.all(restoreTargets.map((p) => nearestSpace(p).catch(() => undefined)));
  const least = targets.reduce<Space>((min, s) => (s && s.free < min.free ? s : min), own);
  return create(HostFactsSchema, {
    hostname: hostname(),
    os: platform(),
    arch: arch(),
    osRelease: release(),
    agentVersion: AGENT_VERSION,
    diskFreeBytes: least.free,
    diskTotalBytes: least.total,
    labels,
  });
}

async function spaceOf(path: string): Promise<Space> {
  const fs = await statfs(path);
  return { free: BigInt(fs.bavail) * BigInt(fs.bsize), total: BigInt(fs.blocks) * BigInt(fs.bsize) };
}

async function nearestSpace(path: string): Promise<Space> {
  for (let p = path; ; p = dirname(p)) {
    try {
      return await spaceOf(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || p === dirname(p)) throw err;
    }
  }
}
