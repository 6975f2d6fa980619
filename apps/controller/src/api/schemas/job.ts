import { JOB_KINDS, JOB_RUN_STATES, JOB_STATES } from "@pwdr/catalog";
import { Type } from "typebox";
import { RestoreSpec, RetrySettings } from "../../jobs/job-spec.js";
import { OptionalTimestamp, Timestamp } from "./common.js";

const Id = Type.String({ minLength: 1, maxLength: 64 });
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const Bytes = Type.Integer({ minimum: 0 });

export const JobKind = Type.Enum([...JOB_KINDS]);
export const JobState = Type.Enum([...JOB_STATES]);

export const JobView = Type.Object(
  {
    id: Type.String(),
    kind: JobKind,
    hostId: Type.String(),
    state: JobState,
    reason: Type.Union([Type.String(), Type.Null()], {
      description: "Why it failed, was cancelled or missed",
    }),
    createdBy: Type.String({ description: 'Actor: "token:<name>", "system:scheduler", "agent:<host>"' }),
    schedule: Type.Union([Type.String(), Type.Null()], {
      description: "Policy schedule; null for operator jobs",
    }),
    scheduledFor: Timestamp,
    dispatchedAt: OptionalTimestamp,
    finishedAt: OptionalTimestamp,
    attempt: Type.Integer(),
    idempotencyKey: Type.String(),
    params: JsonObject,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { description: "A job as listed" },
);

export const RunProgressView = Type.Object(
  {
    runId: Type.String(),
    jobId: Type.String(),
    phase: Type.String(),
    bytesDone: Bytes,
    bytesTotal: Type.Integer({ minimum: 0, description: "0 when unknown" }),
    itemsDone: Type.Integer({ minimum: 0 }),
    itemsTotal: Type.Integer({ minimum: 0 }),
    currentItem: Type.String(),
    at: Timestamp,
  },
  { description: "The newest progress report of a running job" },
);

export const JobRunView = Type.Object(
  {
    id: Type.String(),
    runId: Type.String({ description: "The agent's id of this execution" }),
    state: Type.Enum([...JOB_RUN_STATES]),
    locallyScheduled: Type.Boolean(),
    phase: Type.Union([Type.String(), Type.Null()]),
    progress: Type.Union([JsonObject, Type.Null()]),
    details: Type.Union([JsonObject, Type.Null()]),
    startedAt: Timestamp,
    finishedAt: OptionalTimestamp,
    bytesRead: Bytes,
    bytesAdded: Bytes,
    errorCode: Type.Union([Type.String(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
    recoveryPointId: Type.Union([Type.String(), Type.Null()]),
  },
  { description: "One execution of a job on its agent" },
);

export const JobDetail = Type.Object(
  {
    ...JobView.properties,
    runs: Type.Array(JobRunView),
    liveProgress: Type.Union([RunProgressView, Type.Null()], {
      description: "The newest report this controller received, newer than the runs' stored progress",
    }),
  },
  { description: "A job with its runs and live progress" },
);

export const JobListQuery = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 253, description: "Host id or name" })),
    state: Type.Optional(JobState),
    kind: Type.Optional(JobKind),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    cursor: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "nextCursor of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

export const JobPage = Type.Object({
  jobs: Type.Array(JobView),
  nextCursor: Type.Union([Type.String(), Type.Null()], { description: "Pass as cursor for the next page" }),
});

export const JobInput = Type.Object(
  {
    hostId: Id,
    kind: JobKind,
    spec: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description:
          "What the job does, by kind: backup {sources?, tags?}; restore {recoveryPointId, sources?, targetPrefix?, " +
          "dryRun?, manageServices?}; verify {readDataSubset?}; drill {recoveryPointId?}; prune {retention, dryRun?}; " +
          'service {action: "stop"|"start"|"restart", services?}. Omitted: {} (a kind that needs a field says so)',
      }),
    ),
    retry: Type.Optional(RetrySettings),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 7 * 86_400_000 })),
  },
  { additionalProperties: false, description: "A job for one host, queued for its agent" },
);

export const IdempotencyHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      pattern: "^[A-Za-z0-9._:-]{1,128}$",
      description: "Repeating a request with the same key returns the job the first one created",
    }),
  ),
});

export const RestoreInput = Type.Object(
  { ...RestoreSpec.properties, recoveryPointId: Type.Optional(RestoreSpec.properties.recoveryPointId) },
  {
    additionalProperties: false,
    description: "Restore a recovery point of the host (the newest complete one when none is named)",
  },
);

export const CancelView = Type.Object(
  {
    job: JobView,
    cancelledNow: Type.Boolean({ description: "A pending job is cancelled at once" }),
    sentToAgent: Type.Boolean({
      description: "A dispatched or running job: whether the cancel reached the host's session",
    }),
  },
  { description: "The outcome of a cancel request; a running job's final state comes from its agent" },
);
