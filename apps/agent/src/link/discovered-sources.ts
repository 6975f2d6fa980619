import { create } from "@bufbuild/protobuf";
import type { ServerFacts, SourceDefinition } from "@pwdr/host";
import { type DiscoveredSource, DiscoveredSourceSchema, SourceKind } from "@pwdr/protocol";
import type { AgentConfig } from "../config/agent-config.js";
import type { RunRecord } from "../daemon/journal.js";

const KINDS: Record<SourceDefinition["kind"], SourceKind> = {
  postgres: SourceKind.POSTGRES,
  redis: SourceKind.REDIS,
  config: SourceKind.CONFIG,
  files: SourceKind.FILES,
};

/** A server that does not answer this fast is reported with its last recorded version. */
const PROBE_TIMEOUT_MS = 1_500;

/** What Hello says about the host's data: its sources and where a restore would write. */
export interface HostInventory {
  sources: DiscoveredSource[];
  /** Directories a restore writes into: data trees, Redis's and (when it says) PostgreSQL's data dirs. */
  restoreTargets: string[];
}

type Probe = (def: SourceDefinition, timeoutMs: number) => Promise<ServerFacts | undefined>;

/** Where a source is, for people: never a password (the definition holds none, only where one comes from). */
function locationOf(def: SourceDefinition): string {
  switch (def.kind) {
    case "postgres":
      return `${def.connection.host}:${def.connection.port}/${def.databases.join(",")}`;
    case "redis":
      return `${def.connection.host}:${def.connection.port}${def.dataDir ? ` (${def.dataDir})` : ""}`;
    default:
      return def.paths.join(", ");
  }
}

/**
 * The config's sources for Hello, with the running servers' versions (a DR
 * assessment compares them with a recovery point's before restoring here):
 * asked anew at each connect, in parallel and briefly; a server that does
 * not answer keeps the version the last backup recorded.
 */
export async function hostInventory(
  config: AgentConfig,
  runs: readonly RunRecord[],
  probe?: Probe,
): Promise<HostInventory> {
  const ask = probe ?? (await import("@pwdr/host")).serverFacts;
  const recorded = recordedVersions(runs);
  const facts = await Promise.all(
    config.sources.map((def) => ask(def, PROBE_TIMEOUT_MS).catch(() => undefined)),
  );
  const sources = config.sources.map((def, i) =>
    create(DiscoveredSourceSchema, {
      name: def.name,
      kind: KINDS[def.kind],
      version: facts[i]?.version ?? recorded.get(def.name) ?? "",
      location: locationOf(def),
    }),
  );
  const restoreTargets = config.sources.flatMap((def, i) => {
    if (def.kind === "config" || def.kind === "files") return def.paths;
    const dir = facts[i]?.dataDirectory ?? (def.kind === "redis" ? def.dataDir : undefined);
    return dir ? [dir] : [];
  });
  return { sources, restoreTargets };
}

function recordedVersions(runs: readonly RunRecord[]): Map<string, string> {
  const versions = new Map<string, string>();
  for (const run of runs) {
    const sources = run.job === "backup" ? run.details?.sources : undefined;
    if (!Array.isArray(sources)) continue;
    for (const s of sources as { name?: unknown; version?: unknown }[]) {
      if (typeof s.name === "string" && typeof s.version === "string") versions.set(s.name, s.version);
    }
  }
  return versions;
}
