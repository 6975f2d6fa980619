// The shapes of the API answers the dashboard reads (see /api/v1/openapi.json).

export type Role = "viewer" | "operator" | "admin";

export interface SessionInfo {
  name: string;
  role: Role;
  expiresAt: string | null;
}

export interface OverviewHost {
  id: string;
  name: string;
  labels: Record<string, string>;
  site: string | null;
  state: string;
  lastSeenAt: string | null;
  lastBackupAt: string | null;
  rpoBreachedSince: string | null;
  sources: { name: string; kind: string; lastSuccessAt: string }[];
  agentCertificate: { notAfter: string; expiringSoon: boolean } | null;
  expiringConfigCertificates: number;
}

export interface HostDetail {
  id: string;
  name: string;
  labels: Record<string, string>;
  site: string | null;
  state: string;
  agentVersion: string | null;
  lastSeenAt: string | null;
  revokedAt: string | null;
  lastBackupAt: string | null;
  rpoBreachedSince: string | null;
  facts: Record<string, unknown> | null;
}

export interface RunProgress {
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  itemsDone: number;
  itemsTotal: number;
  currentItem: string;
  at: string;
}

export interface Job {
  id: string;
  kind: string;
  hostId: string;
  state: string;
  reason: string | null;
  createdBy: string;
  schedule: string | null;
  scheduledFor: string;
  dispatchedAt: string | null;
  finishedAt: string | null;
  attempt: number;
  params: Record<string, unknown>;
  createdAt: string;
}

export interface JobRun {
  id: string;
  state: string;
  phase: string | null;
  startedAt: string;
  finishedAt: string | null;
  bytesRead: number;
  bytesAdded: number;
  errorCode: string | null;
  errorMessage: string | null;
  recoveryPointId: string | null;
  /** What the run reported (a restore: its host restore report, steps and all). */
  details: Record<string, unknown> | null;
}

export interface JobDetail extends Job {
  runs: JobRun[];
  liveProgress: RunProgress | null;
}

export interface RecoveryPoint {
  id: string;
  hostId: string;
  hostName: string;
  time: string;
  status: string;
  snapshotCount: number;
}

export interface Snapshot {
  id: string;
  repository: string;
  snapshotId: string;
  sourceName: string;
  sourceKind: string;
  time: string;
  sizeBytes: number;
  fileCount: number;
  status: string;
  error: string | null;
}

export interface RecoveryPointDetail extends RecoveryPoint {
  snapshots: Snapshot[];
}

export interface TreeEntry {
  name: string;
  path: string;
  type: string;
  size: number;
  mode: number;
  mtime: string;
  target?: string;
}

export interface TreeListing {
  snapshotId: string;
  sourceName: string;
  path: string;
  entries: TreeEntry[];
  truncated: boolean;
}

export interface Policy {
  id: string;
  name: string;
  parentId: string | null;
  selector: Record<string, string>;
  sources: unknown[] | null;
  schedule: string | null;
  retention: Record<string, unknown> | null;
  verification: Record<string, unknown> | null;
  scheduling: Record<string, unknown> | null;
  repositoryId: string | null;
  enabled: boolean;
  updatedAt: string;
}

export interface PlannedStep {
  position: number;
  name: string;
  hostId: string | null;
  action: string;
  timeoutMs: number;
  maxAttempts: number;
  onFailure: string;
  description: string;
}

export interface DrPlan {
  kind: string;
  failedHost?: { id: string; name: string };
  replacementHost?: { id: string; name: string };
  recoveryPoint?: { id: string; time: string; status: string };
  rpoMs?: number;
  restores?: { source: string; kind: string; sizeBytes: number; fileCount: number; step: string }[];
  totalBytes?: number;
  estimate?: { ms: number; basis: string; note: string };
  /** The hosts of a multi-host plan. */
  hosts?: { id: string; name: string }[];
  assessment: { ok: boolean; problems: string[]; checks: { name: string; ok: boolean; detail: string }[] };
  steps: PlannedStep[];
}

export interface DrStep {
  id: string;
  position: number;
  name: string;
  hostId: string | null;
  action: string;
  state: string;
  attempt: number;
  maxAttempts: number;
  jobId: string | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  liveProgress: RunProgress | null;
}

export interface DrRun {
  id: string;
  kind: string;
  state: string;
  failedHostId: string | null;
  replacementHostId: string | null;
  recoveryPointId: string | null;
  reason: string | null;
  createdBy: string;
  startedAt: string | null;
  finishedAt: string | null;
  rtoMs: number | null;
  rpoMs: number | null;
  createdAt: string;
}

export interface DrRunDetail extends DrRun {
  plan: DrPlan;
  steps: DrStep[];
}

export interface AuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

/** GET /dr/drills?host=: a host's fleet drills, oldest first, and their RTO trend. */
export interface DrillHistory {
  host: { id: string; name: string };
  drills: {
    id: string;
    state: string;
    mode: string;
    targetHost: { id: string; name: string } | null;
    recoveryPointId: string | null;
    scheduled: boolean;
    startedAt: string | null;
    finishedAt: string | null;
    rtoMs: number | null;
    rpoMs: number | null;
    reason: string | null;
  }[];
  trend: {
    drills: number;
    succeeded: number;
    failed: number;
    lastRtoMs: number | null;
    medianRtoMs: number | null;
    recentMedianRtoMs: number | null;
    earlierMedianRtoMs: number | null;
    direction: "faster" | "slower" | "steady" | "unknown";
  };
}
