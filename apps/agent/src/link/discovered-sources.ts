import { create } from "@bufbuild/protobuf";
import type { SourceDefinition } from "@pwdr/host";
import { type DiscoveredSource, DiscoveredSourceSchema, SourceKind } from "@pwdr/protocol";
import type { AgentConfig } from "../config/agent-config.js";
import type { RunRecord } from "../daemon/journal.js";

const KINDS: Record<SourceDefinition["kind"], SourceKind> = {
  postgres: SourceKind.POSTGRES,
  redis: SourceKind.REDIS,
  config: SourceKind.CONFIG,
  files: SourceKind.FILES,
};

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
 * The config's sources for Hello. Versions come from the last backup that
 * recorded one (asking the servers would make every reconnect slow).
 */
export function discoveredSources(config: AgentConfig, runs: readonly RunRecord[]): DiscoveredSource[] {
  const versions = new Map<string, string>();
  for (const run of runs) {
    const sources = run.job === "backup" ? run.details?.sources : undefined;
    if (!Array.isArray(sources)) continue;
    for (const s of sources as { name?: unknown; version?: unknown }[]) {
      if (typeof s.name === "string" && typeof s.version === "string") versions.set(s.name, s.version);
    }
  }
  return config.sources.map((def) =>
    create(DiscoveredSourceSchema, {
      name: def.name,
      kind: KINDS[def.kind],
      version: versions.get(def.name) ?? "",
      location: locationOf(def),
    }),
  );
}
