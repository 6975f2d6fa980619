import { isAbsolute } from "node:path";
import { z } from "zod";

const absolutePath = z.string().refine(isAbsolute, { message: "must be an absolute path" });
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "use lower-case letters, digits, '-', '_' or '.' (at most 63)");
const port = z.number().int().min(1).max(65535);
const timeoutMs = z.number().int().positive();

/**
 * Where a secret comes from. The value itself never appears in a definition,
 * so definitions can be stored, logged and shown.
 */
const secretFields = { passwordFile: absolutePath.optional(), passwordEnv: z.string().min(1).optional() };

function oneSecretSource(c: {
  passwordFile?: string | undefined;
  passwordEnv?: string | undefined;
}): boolean {
  return !(c.passwordFile && c.passwordEnv);
}
const ONE_SECRET_SOURCE = { message: "give passwordFile or passwordEnv, not both", path: ["passwordEnv"] };

/** How a host stops and starts a service: systemd units, docker compose, or plain shell commands. */
export const serviceControlSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("systemd"),
    units: z.array(z.string().min(1)).min(1),
    timeoutMs: timeoutMs.default(120_000),
  }),
  z.strictObject({
    type: z.literal("compose"),
    file: absolutePath,
    /** Services of the compose project; all of them when empty. */
    services: z.array(z.string().min(1)).default([]),
    timeoutMs: timeoutMs.default(120_000),
  }),
  z.strictObject({
    type: z.literal("commands"),
    stop: z.string().min(1),
    start: z.string().min(1),
    timeoutMs: timeoutMs.default(120_000),
  }),
]);

export const healthCheckSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  expectStatus: z.number().int().min(100).max(599).default(200),
  timeoutMs: timeoutMs.default(5_000),
  attempts: z.number().int().min(1).default(30),
  intervalMs: z.number().int().min(0).default(2_000),
});

const postgresSource = z.strictObject({
  kind: z.literal("postgres"),
  name,
  connection: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(5432),
      user: z.string().min(1).default("postgres"),
      database: z.string().min(1).optional(),
      binDir: absolutePath.optional(),
      ...secretFields,
    })
    .refine(oneSecretSource, ONE_SECRET_SOURCE)
    .prefault({}),
  databases: z.array(z.string().min(1)).min(1),
  /** Parallel pg_restore runs. */
  jobs: z.number().int().min(1).default(2),
});

const redisSource = z.strictObject({
  kind: z.literal("redis"),
  name,
  /** files: RDB and AOF from the data dir; logical: keys over the wire (no data dir access). */
  mode: z.enum(["files", "logical"]).default("files"),
  connection: z
    .strictObject({
      host: z.string().min(1).default("127.0.0.1"),
      port: port.default(6379),
      ...secretFields,
    })
    .refine(oneSecretSource, ONE_SECRET_SOURCE)
    .prefault({}),
  /** Redis's `dir` as the agent sees it; required to restore in files mode. */
  dataDir: absolutePath.optional(),
  /** Stops and starts Redis around a files-mode restore. */
  service: serviceControlSchema.optional(),
});

const configSource = z.strictObject({
  kind: z.literal("config"),
  name,
  paths: z.array(absolutePath).min(1),
  optionalPaths: z.array(absolutePath).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  expiryWarningDays: z.number().min(0).default(30),
});

const filesSource = z.strictObject({
  kind: z.literal("files"),
  name,
  paths: z.array(absolutePath).min(1),
  optionalPaths: z.array(absolutePath).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  include: z.array(z.string().min(1)).default([]),
  oneFileSystem: z.boolean().default(false),
});

export const sourceDefinitionSchema = z.discriminatedUnion("kind", [
  postgresSource,
  redisSource,
  configSource,
  filesSource,
]);

/** What a host backs up and how it is brought down and up again around a restore. */
export const hostDefinitionObject = z.strictObject({
  /** The host name recorded in snapshots; the machine's host name when omitted. */
  host: name.optional(),
  /** A shell command whose first output line is the application's version, e.g. `cat /opt/piwardrive/VERSION`. */
  appVersionCommand: z.string().min(1).optional(),
  sources: z.array(sourceDefinitionSchema).min(1),
  /** The application's services: stopped before a host restore, started after it. */
  services: serviceControlSchema.optional(),
  /** Checked after a host restore has started the services. */
  health: healthCheckSchema.optional(),
});

/** Source names identify snapshots across runs: they must be unique on a host. */
export function uniqueSourceNames(def: { sources: { name: string }[] }, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  def.sources.forEach((s, i) => {
    if (seen.has(s.name)) {
      ctx.addIssue({
        code: "custom",
        path: ["sources", i, "name"],
        message: `duplicate source name "${s.name}"`,
      });
    }
    seen.add(s.name);
  });
}

export const hostDefinitionSchema = hostDefinitionObject.superRefine(uniqueSourceNames);

export type HostDefinition = z.infer<typeof hostDefinitionSchema>;
export type HostDefinitionInput = z.input<typeof hostDefinitionSchema>;
export type SourceDefinition = z.infer<typeof sourceDefinitionSchema>;
export type ServiceControl = z.infer<typeof serviceControlSchema>;
export type HealthCheck = z.infer<typeof healthCheckSchema>;
export type PostgresSourceDefinition = Extract<SourceDefinition, { kind: "postgres" }>;
export type RedisSourceDefinition = Extract<SourceDefinition, { kind: "redis" }>;
export type ConfigSourceDefinition = Extract<SourceDefinition, { kind: "config" }>;
export type FilesSourceDefinition = Extract<SourceDefinition, { kind: "files" }>;
