import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { RepoError } from "@pwdr/repo";
import {
  type HostDefinition,
  hostDefinitionSchema,
  type SourceDefinition,
} from "../definition/host-definition.js";
import type { RecoveryPoint, SourceOutcome } from "../recovery-point/recovery-point.js";
import type { RestoreMapping } from "../restore/mapping.js";
import { type SandboxPostgres, startSandboxPostgres } from "./sandbox-postgres.js";
import { type RedisRecord, type SandboxRedis, startSandboxRedis } from "./sandbox-redis.js";

/** What restoreHost needs to restore a recovery point into the sandbox and nowhere else. */
export interface SandboxTarget {
  /** Every server source points at a sandbox server; no services, no health check. */
  definition: HostDefinition;
  /**
   * Empty: the definition already holds the sandbox ports, and restoreHost
   * would apply a port mapping to them a second time.
   */
  mapping: RestoreMapping;
  /** Configuration and data trees land below it, at their recorded paths. */
  targetPrefix: string;
}

/** Temporary servers and a directory for one drill, all under one directory removed by `close`. */
export interface Sandbox {
  root: string;
  definitionFor(point: RecoveryPoint): SandboxTarget;
  /** Whether a restore step's target (a path or a postgres:// / redis:// address) lies in the sandbox. */
  owns(touch: string): boolean;
  /** Stops every server and removes the directory; safe to call more than once. */
  close(): Promise<void>;
}

export interface SandboxOptions {
  /** Where the sandbox directory is made; it must allow the postgres user through when running as root. */
  workDir: string;
  /** The Redis record of each Redis source (version, persistence, AOF names), by source name. */
  redisRecords: ReadonlyMap<string, RedisRecord>;
}

type Server = { kind: "postgres"; pg: SandboxPostgres } | { kind: "redis"; redis: SandboxRedis };

/**
 * Starts a PostgreSQL for each PostgreSQL source and a Redis for each Redis
 * source of `point` that succeeded. If one fails to start, those already
 * started are stopped and the directory removed before the error is thrown.
 */
export async function openSandbox(point: RecoveryPoint, options: SandboxOptions): Promise<Sandbox> {
  if (!isAbsolute(options.workDir)) {
    throw new RepoError("invalid_argument", `the drill work dir must be absolute, not ${options.workDir}`);
  }
  mkdirSync(options.workDir, { recursive: true });
  const root = mkdtempSync(join(options.workDir, "pwdr-drill-"));
  // The sandbox PostgreSQL runs as the postgres user and must reach its own subdirectory.
  chmodSync(root, 0o711);
  const servers = new Map<string, Server>();
  const close = () => closeSandbox(root, servers);
  try {
    for (const source of point.sources.filter((s) => s.status === "ok")) {
      const server = await startServerFor(source, root, options);
      if (server) servers.set(source.name, server);
    }
  } catch (err) {
    await close();
    throw err;
  }
  const filesRoot = join(root, "files");
  mkdirSync(filesRoot, { mode: 0o700 });
  return {
    root,
    definitionFor: (p) => targetFor(p, servers, filesRoot),
    owns: (touch) => ownsTouch(touch, root, servers),
    close,
  };
}

async function startServerFor(
  source: SourceOutcome,
  root: string,
  options: SandboxOptions,
): Promise<Server | undefined> {
  const def = source.definition;
  const dir = join(root, `${def.kind}-${def.name}`);
  if (def.kind === "postgres") {
    const version = source.version ?? "";
    return {
      kind: "postgres",
      pg: await startSandboxPostgres(dir, { version, binDir: def.connection.binDir }),
    };
  }
  if (def.kind === "redis") {
    const record = options.redisRecords.get(def.name) ?? { version: source.version ?? "" };
    return { kind: "redis", redis: await startSandboxRedis(dir, record) };
  }
  return undefined;
}

async function closeSandbox(root: string, servers: Map<string, Server>): Promise<void> {
  await Promise.allSettled(
    [...servers.values()].map((s) => (s.kind === "postgres" ? s.pg.stop() : s.redis.stop())),
  );
  servers.clear();
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}

function targetFor(point: RecoveryPoint, servers: Map<string, Server>, filesRoot: string): SandboxTarget {
  const sources = point.sources
    .filter((s) => s.status === "ok")
    .map((s) => sandboxSource(s.definition, servers));
  return {
    definition: hostDefinitionSchema.parse({ sources }),
    mapping: {},
    targetPrefix: filesRoot,
  };
}

function sandboxSource(recorded: SourceDefinition, servers: Map<string, Server>): SourceDefinition {
  const server = servers.get(recorded.name);
  if (recorded.kind === "postgres" && server?.kind === "postgres") {
    const { host, port, user, passwordFile, binDir } = server.pg;
    return { ...recorded, connection: { host, port, user, passwordFile, binDir } };
  }
  if (recorded.kind === "redis" && server?.kind === "redis") {
    const { host, port, passwordFile, dataDir, service } = server.redis;
    return { ...recorded, connection: { host, port, passwordFile }, dataDir, service };
  }
  if (recorded.kind === "config" || recorded.kind === "files") return recorded;
  throw new RepoError("invalid_argument", `the sandbox has no server for source "${recorded.name}"`);
}

function ownsTouch(touch: string, root: string, servers: Map<string, Server>): boolean {
  if (touch.startsWith(`${root}/`)) return true;
  for (const s of servers.values()) {
    const { host, port } = s.kind === "postgres" ? s.pg : s.redis;
    const scheme = s.kind === "postgres" ? "postgres" : "redis";
    const address = `${scheme}://${host}:${port}`;
    if (touch === address || touch.startsWith(`${address}/`)) return true;
  }
  return false;
}
