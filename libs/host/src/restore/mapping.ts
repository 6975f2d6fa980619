import { RepoError } from "@pwdr/repo";
import type { SourceDefinition } from "../definition/host-definition.js";

/**
 * How a recovery point lands on another host (the replacement-host case):
 * paths of configuration and data trees, ports of the servers, database
 * names. Anything not mapped keeps its recorded value.
 */
export interface RestoreMapping {
  /** Backed-up path → new path, e.g. {"/etc/piwardrive": "/srv/pw/etc"}; the longest matching key wins. */
  paths?: Record<string, string>;
  /** Recorded port → port on the target, e.g. {"5432": 5433}; PostgreSQL and Redis sources. */
  ports?: Record<string, number>;
  /** Backed-up database → database to restore into. */
  databases?: Record<string, string>;
}

/** The source definition to restore into: the target's own when it has one of that name, else the recorded one. */
export function targetSource(
  recorded: SourceDefinition,
  target: readonly SourceDefinition[] | undefined,
  mapping: RestoreMapping,
): SourceDefinition {
  const own = target?.find((s) => s.name === recorded.name);
  if (own && own.kind !== recorded.kind) {
    throw new RepoError(
      "invalid_argument",
      `source "${recorded.name}" is ${recorded.kind} in the recovery point but ${own.kind} in the target definition`,
    );
  }
  const def = own ?? recorded;
  if (def.kind !== "postgres" && def.kind !== "redis") return def;
  const port = mapping.ports?.[String(def.connection.port)];
  return port === undefined ? def : ({ ...def, connection: { ...def.connection, port } } as SourceDefinition);
}

/** Checks a mapping given on a command line or over the API before anything is touched. */
export function checkMapping(mapping: RestoreMapping): void {
  for (const [from, to] of Object.entries(mapping.ports ?? {})) {
    const valid = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
    if (!valid(Number(from)) || !valid(to)) {
      throw new RepoError("invalid_argument", `port mapping ${from} → ${to} is not a pair of TCP ports`);
    }
  }
  for (const [from, to] of Object.entries(mapping.databases ?? {})) {
    if (!from || !to)
      throw new RepoError("invalid_argument", `database mapping "${from}" → "${to}" has an empty name`);
  }
}
