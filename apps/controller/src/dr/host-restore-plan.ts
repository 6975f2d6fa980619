// The default plan of a central restore (the runbook's flow): assess, stop
// the replacement's services, restore database, Redis, config and data from
// the failed host's repository, start services, verify health, take over.
import type { Catalog, DrStepAction, Host, RecoveryPoint } from "@pwdr/catalog";
import type { SessionRegistry } from "../session-registry.js";
import { assessHostRestore } from "./assessment.js";
import { resolveHost } from "./host-ref.js";
import type { HostRestorePlan, PlannedRestore, PlannedStep, RestoreEstimate } from "./plan-types.js";
import { chooseRecoveryPoint, type PointChoice } from "./recovery-point-choice.js";
import { estimateRestore } from "./restore-estimate.js";

export interface HostRestoreRequest extends PointChoice {
  /** Id or name. */
  failedHost: string;
  /** Id or name: a newly enrolled agent. */
  replacementHost: string;
}

const MINUTE = 60_000;
/** A restore step gets several times the estimate: a slow disk must not abort a good restore. */
const RESTORE_TIMEOUT_FACTOR = 4;
const MIN_RESTORE_TIMEOUT_MS = 30 * MINUTE;

/** The restore step of each source kind, in the order the runbook restores them. */
const RESTORE_STEPS: { action: DrStepAction; kinds: string[]; name: string; what: string }[] = [
  { action: "restore-database", kinds: ["postgres"], name: "restore-database", what: "PostgreSQL" },
  { action: "restore-redis", kinds: ["redis"], name: "restore-redis", what: "Redis" },
  { action: "restore-config", kinds: ["config"], name: "restore-config", what: "configuration" },
  { action: "restore-data", kinds: ["files"], name: "restore-data", what: "data files" },
];

interface PointSource {
  name: string;
  kind: string;
  sizeBytes: number;
  fileCount: number;
}

async function pointSources(db: Catalog, point: RecoveryPoint): Promise<PointSource[]> {
  const snapshots = await db.snapshot.findMany({
    where: { recoveryPointId: point.id, status: { not: "failed" } },
    orderBy: { sourceName: "asc" },
  });
  return snapshots.map((s) => ({
    name: s.sourceName,
    kind: s.sourceKind,
    sizeBytes: Number(s.sizeBytes),
    fileCount: s.fileCount,
  }));
}

class StepList {
  readonly steps: PlannedStep[] = [];

  /** Adds a step that depends on the one before it: the default plan is a chain. */
  add(
    step: Omit<PlannedStep, "position" | "dependsOn" | "maxAttempts" | "onFailure"> & Partial<PlannedStep>,
  ) {
    const position = this.steps.length;
    this.steps.push({
      maxAttempts: 1,
      onFailure: "abort",
      dependsOn: position === 0 ? [] : [position - 1],
      ...step,
      position,
    });
  }
}

function planSteps(
  failed: Host,
  replacement: Host,
  point: RecoveryPoint,
  sources: PointSource[],
  estimate: RestoreEstimate,
): { steps: PlannedStep[]; restores: PlannedRestore[] } {
  const list = new StepList();
  const restores: PlannedRestore[] = [];
  const restoreTimeoutMs = Math.max(MIN_RESTORE_TIMEOUT_MS, estimate.ms * RESTORE_TIMEOUT_FACTOR);
  list.add({
    name: "assess",
    hostId: null,
    action: "assess",
    params: {},
    timeoutMs: MINUTE,
    description: `check ${replacement.name} is online, has the disk space and compatible server versions`,
  });
  list.add({
    name: "stop-services",
    hostId: replacement.id,
    action: "stop-services",
    params: {},
    timeoutMs: 5 * MINUTE,
    maxAttempts: 2,
    description: `stop the application services on ${replacement.name}`,
  });
  for (const step of RESTORE_STEPS) {
    const chosen = sources.filter((s) => step.kinds.includes(s.kind));
    if (chosen.length === 0) continue;
    for (const s of chosen)
      restores.push({
        source: s.name,
        kind: s.kind,
        sizeBytes: s.sizeBytes,
        fileCount: s.fileCount,
        step: step.name,
      });
    list.add({
      name: step.name,
      hostId: replacement.id,
      action: step.action,
      params: { recoveryPointId: point.id, sources: chosen.map((s) => s.name), repository: failed.id },
      timeoutMs: restoreTimeoutMs,
      maxAttempts: 2,
      description: `restore ${step.what} (${chosen.map((s) => s.name).join(", ")}) from ${failed.name}'s repository onto ${replacement.name}`,
    });
  }
  list.add({
    name: "start-services",
    hostId: replacement.id,
    action: "start-services",
    params: {},
    timeoutMs: 5 * MINUTE,
    maxAttempts: 2,
    description: `start the application services on ${replacement.name}`,
  });
  list.add({
    name: "verify-health",
    hostId: replacement.id,
    action: "verify-health",
    params: { timeoutSeconds: 300 },
    timeoutMs: 10 * MINUTE,
    maxAttempts: 3,
    description: `wait until ${replacement.name}'s application answers its health check`,
  });
  list.add({
    name: "take-over",
    hostId: null,
    action: "take-over",
    params: {},
    timeoutMs: MINUTE,
    description: `${replacement.name} takes over ${failed.name}'s identity: certificates, policies, history; ${failed.name}'s old certificates are revoked`,
  });
  return { steps: list.steps, restores };
}

/** Plans a central restore and assesses it; writes nothing. */
export async function planHostRestore(
  deps: { db: Catalog; sessions: SessionRegistry },
  request: HostRestoreRequest,
  now = new Date(),
): Promise<HostRestorePlan> {
  const { db } = deps;
  const failed = await resolveHost(db, request.failedHost);
  const replacement = await resolveHost(db, request.replacementHost);
  const point = await chooseRecoveryPoint(db, failed.id, request);
  const sources = await pointSources(db, point);
  const totalBytes = sources.reduce((sum, s) => sum + s.sizeBytes, 0);
  const estimate = await estimateRestore(db, failed.id, totalBytes);
  const versions = (point.versions ?? {}) as Record<string, string>;
  const assessment = await assessHostRestore(deps, { failed, replacement, versions, sources, totalBytes });
  const { steps, restores } = planSteps(failed, replacement, point, sources, estimate);
  return {
    kind: "host-restore",
    failedHost: { id: failed.id, name: failed.name },
    replacementHost: { id: replacement.id, name: replacement.name },
    recoveryPoint: { id: point.id, time: point.time.toISOString(), status: point.status, versions },
    rpoMs: Math.max(0, now.getTime() - point.time.getTime()),
    restores,
    totalBytes,
    estimate,
    assessment,
    steps,
  };
}
