// The allowed values of the catalog's String columns that hold a state, kind or
// role (the schema uses strings rather than enums; see prisma/shared/models.prisma).
// The catalog does not enforce them: validate with these before writing.

export const HOST_STATES = ["online", "offline", "decommissioned"] as const;
export type HostState = (typeof HOST_STATES)[number];

export const REPOSITORY_KINDS = ["local", "controller", "s3"] as const;
export type RepositoryKind = (typeof REPOSITORY_KINDS)[number];

export const JOB_KINDS = [
  "backup",
  "restore",
  "verify",
  "prune",
  "drill",
  "service",
  "health",
  "command",
] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_STATES = [
  "pending",
  "dispatched",
  "running",
  "succeeded",
  "partial",
  "failed",
  "cancelled",
  "missed",
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const JOB_RUN_STATES = ["running", "succeeded", "partial", "failed", "cancelled"] as const;
export type JobRunState = (typeof JOB_RUN_STATES)[number];

export const RECOVERY_POINT_STATUSES = ["complete", "partial", "failed"] as const;
export type RecoveryPointStatus = (typeof RECOVERY_POINT_STATUSES)[number];

export const SNAPSHOT_STATUSES = ["complete", "partial", "failed"] as const;
export type SnapshotStatus = (typeof SNAPSHOT_STATUSES)[number];

export const SOURCE_KINDS = ["postgres", "redis", "config", "files"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export const API_TOKEN_ROLES = ["viewer", "operator", "admin"] as const;
export type ApiTokenRole = (typeof API_TOKEN_ROLES)[number];

export const DR_RUN_KINDS = ["host-restore", "plan", "drill"] as const;
export type DrRunKind = (typeof DR_RUN_KINDS)[number];

export const DR_RUN_STATES = [
  "planned",
  "running",
  "succeeded",
  "failed",
  "cancelling",
  "cancelled",
] as const;
export type DrRunState = (typeof DR_RUN_STATES)[number];

export const DR_STEP_STATES = ["pending", "running", "succeeded", "failed", "skipped", "cancelled"] as const;
export type DrStepState = (typeof DR_STEP_STATES)[number];

export const DR_STEP_ACTIONS = [
  "assess",
  "stop-services",
  "restore-database",
  "restore-redis",
  "restore-config",
  "restore-data",
  "start-services",
  "verify-health",
  "command",
  "drill",
  "take-over",
] as const;
export type DrStepAction = (typeof DR_STEP_ACTIONS)[number];
