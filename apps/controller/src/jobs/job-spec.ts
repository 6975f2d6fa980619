// What each kind of job does, as Job.params.spec holds it (the fleet job
// contract): the API validates operator input with these schemas and the
// dispatcher reads the same shapes back.
import type { JobKind } from "@pwdr/catalog";
import { type Static, type TSchema, Type } from "typebox";
import { Value } from "typebox/value";
import { PolicyRetention } from "../policy-schema.js";

const SourceName = Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" });
const SourceNames = Type.Array(SourceName, { maxItems: 32, uniqueItems: true });
const RecoveryPointId = Type.String({ minLength: 1, maxLength: 64 });
export const MAX_INCLUDES = 64;
export const MAX_INCLUDE_LENGTH = 4096;

export const BackupSpec = Type.Object(
  {
    sources: Type.Optional(SourceNames),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 16 })),
  },
  { additionalProperties: false, description: "Back up these sources (all when omitted)" },
);

export const RestoreSpec = Type.Object(
  {
    recoveryPointId: RecoveryPointId,
    sources: Type.Optional(SourceNames),
    targetPrefix: Type.Optional(
      Type.String({
        pattern: "^/",
        maxLength: 1024,
        description: "Absolute directory restored paths go under",
      }),
    ),
    dryRun: Type.Optional(Type.Boolean()),
    manageServices: Type.Optional(Type.Boolean()),
    repository: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9-]{1,64}$",
        description:
          "Another host's repository to read (a DR run's replacement host); the host's own when omitted",
      }),
    ),
    include: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_INCLUDE_LENGTH }), {
        maxItems: MAX_INCLUDES,
        uniqueItems: true,
        description:
          "Only these paths of the one config or files source in sources (files or directories, absolute " +
          "as the snapshot lists them, no . or .. components); all of it when omitted",
      }),
    ),
  },
  { additionalProperties: false, description: "Restore a recovery point (or some of its sources or paths)" },
);

export const VerifySpec = Type.Object(
  {
    readDataSubset: Type.Optional(
      Type.String({
        pattern: "^([0-9]+(\\.[0-9]+)?%|[0-9]+/[0-9]+|[0-9]+(\\.[0-9]+)?([KMGT]i?)?B?)$",
        examples: ["10%", "1/7", "500MiB"],
      }),
    ),
  },
  { additionalProperties: false, description: "Check the repository; optionally re-read some data" },
);

export const DrillSpec = Type.Object(
  {
    recoveryPointId: Type.Optional(RecoveryPointId),
    repository: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z0-9-]{1,64}$",
        description:
          "Another host's repository to drill from (a fleet drill's target); the host's own when omitted",
      }),
    ),
  },
  { additionalProperties: false, description: "Restore into a sandbox and check it (latest when omitted)" },
);

export const PruneSpec = Type.Object(
  { retention: PolicyRetention, dryRun: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, description: "Apply retention and remove unreferenced data" },
);

export const ServiceSpec = Type.Object(
  {
    action: Type.Enum(["stop", "start", "restart"]),
    services: Type.Optional(Type.Array(SourceName, { maxItems: 32 })),
  },
  { additionalProperties: false, description: "Stop, start or restart the host's services" },
);

const Seconds = Type.Integer({ minimum: 1, maximum: 86_400 });

export const HealthSpec = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
    timeoutSeconds: Type.Optional(Seconds),
  },
  {
    additionalProperties: false,
    description:
      "Wait until the host's application answers its health check (the host definition's when no url)",
  },
);

export const CommandSpec = Type.Object(
  { command: Type.String({ minLength: 1, maxLength: 4096 }), timeoutSeconds: Type.Optional(Seconds) },
  { additionalProperties: false, description: "Run a command on the host through /bin/sh" },
);

export const JOB_SPECS = {
  backup: BackupSpec,
  restore: RestoreSpec,
  verify: VerifySpec,
  drill: DrillSpec,
  prune: PruneSpec,
  service: ServiceSpec,
  health: HealthSpec,
  command: CommandSpec,
} as const satisfies Record<JobKind, TSchema>;

export type RestoreSpec = Static<typeof RestoreSpec>;
export type JobSpec = { [K in JobKind]: Static<(typeof JOB_SPECS)[K]> }[JobKind];

export const RetrySettings = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, maximum: 20, description: "Attempts in all, the first included" }),
    initialDelayMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
    maxDelayMs: Type.Integer({ minimum: 0, maximum: 86_400_000 }),
  },
  { additionalProperties: false, description: "Retry a failed run whose error is retryable" },
);
export type RetrySettings = Static<typeof RetrySettings>;

/** Job.params as stored: the spec plus how to retry and when to give up. */
export interface JobParams {
  spec: JobSpec;
  retry?: RetrySettings;
  timeoutMs?: number;
}

export interface SpecProblem {
  /** Below the spec, e.g. "/recoveryPointId". */
  path: string;
  message: string;
}

/** Problems of `spec` as the spec of a `kind` job; empty when it is valid. */
export function specProblems(kind: JobKind, spec: unknown): SpecProblem[] {
  const schema = JOB_SPECS[kind];
  return Value.Errors(schema, spec)
    .filter((e) => e.keyword !== "boolean")
    .map((e) => {
      const params = e.params as { requiredProperties?: string[]; additionalProperties?: string[] };
      const names = params.requiredProperties ?? params.additionalProperties;
      return { path: e.instancePath, message: names ? `${e.message}: ${names.join(", ")}` : e.message };
    });
}

/** The job's retry settings, when its params carry valid ones. */
export function retrySettingsOf(params: unknown): RetrySettings | undefined {
  const retry = (params as { retry?: unknown } | null)?.retry;
  return Value.Check(RetrySettings, retry) ? retry : undefined;
}

/** Exponential backoff from initialDelayMs, doubling per attempt made, capped at maxDelayMs. */
export function retryDelayMs(retry: RetrySettings, attemptsMade: number): number {
  const exponent = Math.max(0, attemptsMade - 1);
  return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.min(exponent, 30));
}
