// The shape of a policy as operators write it, once: the API validates with
// it and the policy code takes its types from it.
import { SOURCE_KINDS } from "@pwdr/catalog";
import { type Static, type TSchema, Type } from "typebox";
import { Duration, LabelsInput } from "./api/schemas/common.js";

const Keep = Type.Integer({ minimum: 0, maximum: 100_000 });
const Name = Type.String({ pattern: "^[a-z0-9][a-z0-9._-]{0,62}$" });
const Id = Type.String({ minLength: 1, maxLength: 64 });
const CronExpression = Type.String({
  minLength: 1,
  maxLength: 128,
  description: "Cron expression in the controller's time zone",
  examples: ["15 2 * * *"],
});
/** "HH:MM", 24-hour clock. */
const ClockTime = Type.String({ pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$", examples: ["22:00"] });

export const PolicyRetention = Type.Object(
  {
    keepLast: Type.Optional(Keep),
    keepHourly: Type.Optional(Keep),
    keepDaily: Type.Optional(Keep),
    keepWeekly: Type.Optional(Keep),
    keepMonthly: Type.Optional(Keep),
    keepYearly: Type.Optional(Keep),
    within: Type.Optional(Duration),
  },
  { additionalProperties: false, minProperties: 1, description: "What to keep; at least one rule" },
);

export const PolicySource = Type.Object(
  { name: Name, kind: Type.Enum([...SOURCE_KINDS]) },
  { additionalProperties: false, description: "A source to back up, e.g. piwardrive-db (postgres)" },
);

const VERIFICATION_FIELDS = {
  checkSchedule: CronExpression,
  readDataSubset: Type.String({
    pattern: "^([0-9]{1,3}(\\.[0-9]+)?%|[0-9]+/[0-9]+|[0-9]+(\\.[0-9]+)?(B|KiB|MiB|GiB|TiB)?)$",
    description: "Share of pack data a check re-reads: 10%, 1/7 or 500MiB; unset checks structure only",
  }),
  drillSchedule: CronExpression,
  fleetDrillSchedule: Type.String({
    minLength: 1,
    maxLength: 128,
    description:
      "Cron of the fleet drill, in the controller's time zone: the host's latest recovery point restored onto fleetDrillHost and checked",
    examples: ["30 3 * * 6"],
  }),
  fleetDrillHost: Type.String({
    minLength: 1,
    maxLength: 253,
    description: "Name or id of the standby or sandbox agent that fleet drills restore onto",
  }),
  fleetDrillMode: Type.Union([Type.Literal("sandbox"), Type.Literal("standby")], {
    description:
      "sandbox (default): the agent restores into throw-away servers and checks the data against the backup; standby: the runbook's restore onto the agent's own services, then its health check",
  }),
};

export const PolicyWindow = Type.Object(
  { start: ClockTime, end: ClockTime },
  {
    additionalProperties: false,
    description:
      "When scheduled jobs may start, in the controller's time zone; may wrap midnight (22:00-04:00)",
  },
);

export const PolicyRetry = Type.Object(
  {
    attempts: Type.Integer({ minimum: 1, maximum: 20, description: "Attempts in all, the first included" }),
    initialDelay: Duration,
    maxDelay: Duration,
  },
  { additionalProperties: false, description: "Retries of a failed job: exponential backoff, capped" },
);

const SCHEDULING_FIELDS = {
  window: PolicyWindow,
  jitter: Duration,
  rpo: Duration,
  retry: PolicyRetry,
  pruneSchedule: CronExpression,
};

function allOptional<T extends Record<string, TSchema>>(fields: T) {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])) as {
    [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>>;
  };
}

function allNullable<T extends Record<string, TSchema>>(fields: T) {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, Type.Optional(Type.Union([v, Type.Null()]))]),
  ) as {
    [K in keyof T]: ReturnType<typeof Type.Optional<ReturnType<typeof Type.Union<[T[K], Type.TNull]>>>>;
  };
}

export const PolicyVerification = Type.Object(allOptional(VERIFICATION_FIELDS), {
  additionalProperties: false,
  description: "Repository checks and restore drills; a field left out inherits",
});

export const PolicyScheduling = Type.Object(allOptional(SCHEDULING_FIELDS), {
  additionalProperties: false,
  description: "Window, jitter, RPO, retries and the prune schedule; a field left out inherits",
});

export const PolicyInput = Type.Object(
  {
    name: Name,
    parentId: Type.Optional(Id),
    selector: Type.Optional(LabelsInput),
    sources: Type.Optional(Type.Array(PolicySource, { maxItems: 32 })),
    schedule: Type.Optional(CronExpression),
    retention: Type.Optional(PolicyRetention),
    verification: Type.Optional(PolicyVerification),
    scheduling: Type.Optional(PolicyScheduling),
    repositoryId: Type.Optional(Id),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: "A new policy; a field left out inherits from the parent" },
);

const orNull = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export const PolicyPatch = Type.Object(
  {
    name: Type.Optional(Name),
    parentId: orNull(Id),
    selector: Type.Optional(LabelsInput),
    sources: orNull(Type.Array(PolicySource, { maxItems: 32 })),
    schedule: orNull(CronExpression),
    retention: orNull(PolicyRetention),
    verification: orNull(
      Type.Object(allNullable(VERIFICATION_FIELDS), {
        additionalProperties: false,
        description: "Fields to change; null clears one so it inherits",
      }),
    ),
    scheduling: orNull(
      Type.Object(allNullable(SCHEDULING_FIELDS), {
        additionalProperties: false,
        description: "Fields to change; null clears one so it inherits",
      }),
    ),
    repositoryId: orNull(Id),
    enabled: Type.Optional(Type.Boolean()),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description:
      "Changes to a policy: fields left out stay, null clears a field so it inherits from the parent; " +
      "verification and scheduling change field by field",
  },
);

export type PolicyRetention = Static<typeof PolicyRetention>;
export type PolicySource = Static<typeof PolicySource>;
export type PolicyVerification = Static<typeof PolicyVerification>;
export type PolicyScheduling = Static<typeof PolicyScheduling>;
export type PolicyWindow = Static<typeof PolicyWindow>;
export type PolicyRetry = Static<typeof PolicyRetry>;
export type PolicyInput = Static<typeof PolicyInput>;
export type PolicyPatch = Static<typeof PolicyPatch>;
