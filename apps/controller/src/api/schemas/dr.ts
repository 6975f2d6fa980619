import { DR_RUN_KINDS, DR_RUN_STATES, DR_STEP_ACTIONS, DR_STEP_STATES } from "@pwdr/catalog";
import { Type } from "typebox";
import { OptionalTimestamp, Timestamp } from "./common.js";
import { RunProgressView } from "./job.js";

const Id = Type.String({ minLength: 1, maxLength: 253, description: "Id or name" });
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Ms = Type.Integer({ minimum: 0 });
const StepName = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$" });
const OnFailure = Type.Enum(["abort", "continue"]);

export const DrRestoreInput = Type.Object(
  {
    failedHostId: Id,
    replacementHostId: Id,
    recoveryPointId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    at: Type.Optional(
      Type.String({
        format: "date-time",
        description: "Use the newest complete point at or before this time",
      }),
    ),
    dryRun: Type.Boolean({
      default: true,
      description: "Only show the plan; a run starts with dryRun: false",
    }),
  },
  { additionalProperties: false },
);

const DrillMode = Type.Enum(["sandbox", "standby"], {
  description:
    "sandbox: restored into the target agent's throw-away servers and checked against the backup; standby: the runbook's restore onto the target's own services, then its health check",
});

export const DrDrillInput = Type.Object(
  {
    hostId: Type.String({
      minLength: 1,
      maxLength: 253,
      description: "Id or name of the host whose point is drilled",
    }),
    targetHostId: Type.String({
      minLength: 1,
      maxLength: 253,
      description: "Id or name of the standby or sandbox agent",
    }),
    mode: Type.Optional(DrillMode),
    recoveryPointId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    dryRun: Type.Boolean({
      default: true,
      description: "Only show the plan; a drill starts with dryRun: false",
    }),
  },
  { additionalProperties: false },
);

export const DrillHistoryQuery = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253, description: "Id or name of the drilled host" }),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  },
  { additionalProperties: false },
);

const MsOrNull = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

export const DrillHistoryView = Type.Object({
  host: Type.Object({ id: Type.String(), name: Type.String() }),
  drills: Type.Array(
    Type.Object({
      id: Type.String(),
      state: Type.Enum([...DR_RUN_STATES]),
      mode: Type.String(),
      targetHost: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
      recoveryPointId: Type.Union([Type.String(), Type.Null()]),
      scheduled: Type.Boolean({ description: "Started by the policy's fleetDrillSchedule" }),
      startedAt: OptionalTimestamp,
      finishedAt: OptionalTimestamp,
      rtoMs: MsOrNull,
      rpoMs: MsOrNull,
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  trend: Type.Object({
    drills: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    lastRtoMs: MsOrNull,
    medianRtoMs: MsOrNull,
    recentMedianRtoMs: Type.Union([Type.Integer(), Type.Null()], {
      description: "Median RTO of the last 3 succeeded drills",
    }),
    earlierMedianRtoMs: Type.Union([Type.Integer(), Type.Null()], {
      description: "Median RTO of the 3 succeeded drills before those",
    }),
    direction: Type.Enum(["faster", "slower", "steady", "unknown"], {
      description: "Recent against earlier median; steady within 20%",
    }),
  }),
});

const AgentAction = Type.Enum(DR_STEP_ACTIONS.filter((a) => a !== "assess" && a !== "take-over"));

export const PlanStepInput = Type.Object(
  {
    name: StepName,
    hostId: Id,
    action: AgentAction,
    params: Type.Optional(JsonObject),
    dependsOn: Type.Optional(
      Type.Array(StepName, {
        maxItems: 100,
        uniqueItems: true,
        description: "Earlier steps that must succeed first; the previous step when omitted",
      }),
    ),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 86_400 })),
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    onFailure: Type.Optional(OnFailure),
  },
  { additionalProperties: false },
);

export const DrPlanRunInput = Type.Object(
  {
    steps: Type.Array(PlanStepInput, { minItems: 1, maxItems: 100 }),
    dryRun: Type.Boolean({
      default: true,
      description: "Only show the plan; a run starts with dryRun: false",
    }),
  },
  { additionalProperties: false },
);

export const DrRunListQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum([...DR_RUN_STATES])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const HostRef = Type.Object({ id: Type.String(), name: Type.String() });

const AssessmentView = Type.Object({
  ok: Type.Boolean(),
  problems: Type.Array(Type.String(), { description: "Why the run may not start" }),
  checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.String() })),
});

const PlannedStepView = Type.Object({
  position: Type.Integer(),
  name: Type.String(),
  hostId: Nullable(Type.String()),
  action: Type.Enum([...DR_STEP_ACTIONS]),
  params: JsonObject,
  dependsOn: Type.Array(Type.Integer()),
  timeoutMs: Ms,
  maxAttempts: Type.Integer(),
  onFailure: OnFailure,
  description: Type.String(),
});

export const DrPlanView = Type.Object(
  {
    kind: Type.Enum([...DR_RUN_KINDS]),
    failedHost: Type.Optional(HostRef),
    replacementHost: Type.Optional(HostRef),
    mode: Type.Optional(DrillMode),
    host: Type.Optional(HostRef),
    target: Type.Optional(HostRef),
    recoveryPoint: Type.Optional(
      Type.Object({
        id: Type.String(),
        time: Timestamp,
        status: Type.String(),
        versions: Type.Record(Type.String(), Type.String()),
      }),
    ),
    rpoMs: Type.Optional(
      Type.Integer({ description: "Age of the recovery point: the data a restore loses" }),
    ),
    restores: Type.Optional(
      Type.Array(
        Type.Object({
          source: Type.String(),
          kind: Type.String(),
          sizeBytes: Ms,
          fileCount: Ms,
          step: Type.String(),
        }),
      ),
    ),
    totalBytes: Type.Optional(Ms),
    estimate: Type.Optional(
      Type.Object({ ms: Ms, basis: Type.Enum(["history", "size"]), note: Type.String() }),
    ),
    hosts: Type.Optional(Type.Array(HostRef)),
    assessment: AssessmentView,
    steps: Type.Array(PlannedStepView),
  },
  { description: "What a run would do; nothing is touched until it is confirmed" },
);

export const DrStepView = Type.Object({
  id: Type.String(),
  position: Type.Integer(),
  name: Type.String(),
  hostId: Nullable(Type.String()),
  action: Type.Enum([...DR_STEP_ACTIONS]),
  params: JsonObject,
  dependsOn: Type.Array(Type.Integer()),
  state: Type.Enum([...DR_STEP_STATES]),
  attempt: Type.Integer(),
  maxAttempts: Type.Integer(),
  timeoutMs: Ms,
  onFailure: OnFailure,
  jobId: Nullable(Type.String()),
  output: Nullable(JsonObject),
  error: Nullable(Type.String()),
  startedAt: OptionalTimestamp,
  finishedAt: OptionalTimestamp,
  durationMs: Nullable(Ms),
  liveProgress: Nullable(RunProgressView),
});

export const DrRunView = Type.Object({
  id: Type.String(),
  kind: Type.Enum([...DR_RUN_KINDS]),
  state: Type.Enum([...DR_RUN_STATES]),
  failedHostId: Nullable(Type.String()),
  replacementHostId: Nullable(Type.String()),
  recoveryPointId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  createdBy: Type.String(),
  startedAt: OptionalTimestamp,
  finishedAt: OptionalTimestamp,
  rtoMs: Nullable(Type.Integer({ description: "Start to the health check passing (or to the end)" })),
  rpoMs: Nullable(Type.Integer({ description: "Age of the recovery point at the start" })),
  createdAt: Timestamp,
});

export const DrRunDetail = Type.Object({
  ...DrRunView.properties,
  plan: DrPlanView,
  steps: Type.Array(DrStepView),
});

export const DrRunPage = Type.Object({
  runs: Type.Array(DrRunView),
  nextCursor: Nullable(Type.String()),
});
