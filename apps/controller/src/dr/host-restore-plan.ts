// The default plan of a central restore (the runbook's flow): assess, stop
// the replacement's services, restore database, Redis, config and data from
// the failed host's repository, start services, verify health, take over.
import type { Catalog, DrStepAction, Host, RecoveryPoint } from "@pwdr/catalog";
import type { SessionRegistry } from "../session-registry.js";
import { assessHostRestore } from "./assessment.js";
import { resolveHost } from "./host-ref.js";
import type {
  HostRestorePlan,
  PlannedRestore,
  PlannedStep,
  PointRestorePlan,
  RestoreEstimate,
} from "./plan-types.js";
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

export interface PointSource {
  name: string;
  kind: string;
  sizeBytes: number;
  fileCount: number;
}

export async function pointSources(db: Catalog, point: RecoveryPoint): Promise<PointSource[]> {
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

export class StepList {
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

/** What a restore of the point onto `target` reads and writes, and how long it may take. */
export interface RestoreSubject {
  source: Host;
  target: Host;
  point: RecoveryPoint;
  sources: PointSource[];
  totalBytes: number;
  /** Source name -> server version at backup time. */
  versions: Record<string, string>;
  estimate: RestoreEstimate;
}

/** Resolves both hosts, chooses the point and reads what it holds: where every restore plan starts. */
export async function restoreSubject(
  db: Catalog,
  sourceRef: string,
  targetRef: string,
  choice: PointChoice,
): Promise<RestoreSubject> {
  const source = await resolveHost(db, sourceRef);
  const target = await resolveHost(db, targetRef);
  const point = await chooseRecoveryPoint(db, source.id, choice);
  const sources = await pointSources(db, point);
  const totalBytes = sources.reduce((sum, s) => sum + s.sizeBytes, 0);
  const estimate = await estimateRestore(db, source.id, totalBytes);
  const versions = (point.versions ?? {}) as Record<string, string>;
  return { source, target, point, sources, totalBytes, versions, estimate };
}

/** The plan's account of the point: the same in a restore and in a drill. */
export function pointRestorePlan(
  subject: RestoreSubject,
  parts: Pick<PointRestorePlan, "restores" | "assessment" | "steps">,
  now: Date,
): PointRestorePlan {
  const { point, versions, totalBytes, estimate } = subject;
  return {
    recoveryPoint: { id: point.id, time: point.time.toISOString(), status: point.status, versions },
    rpoMs: Math.max(0, now.getTime() - point.time.getTime()),
    totalBytes,
    estimate,
    ...parts,
  };
}

/** A restore step's time-out: several times the estimate, since a slow disk must not abort a good restore. */
export function restoreTimeoutMs(estimate: RestoreEstimate): number {
  return Math.max(MIN_RESTORE_TIMEOUT_MS, estimate.ms * RESTORE_TIMEOUT_FACTOR);
}

export function assessStep(list: StepList, target: Host, what: string): void {
  list.add({
    name: "assess",
    hostId: null,
    action: "assess",
    params: {},
    timeoutMs: MINUTE,
    description: `check ${target.name} is online and has ${what}`,
  });
}

/** What each restore step restores. */
export function plannedRestores(sources: PointSource[], step: (kind: string) => string): PlannedRestore[] {
  return sources.map((s) => ({
    source: s.name,
    kind: s.kind,
    sizeBytes: s.sizeBytes,
    fileCount: s.fileCount,
    step: step(s.kind),
  }));
}

/** The name of the runbook step that restores a source of this kind. */
export const restoreStepOf = (kind: string) => RESTORE_STEPS.find((s) => s.kinds.includes(kind))?.name ?? "";

/**
 * The runbook's chain on the target, after the assessment: stop its services,
 * restore each kind of source from the source host's repository, start the
 * services, wait for the health check.
 */
export function addRunbookSteps(list: StepList, subject: RestoreSubject): void {
  const { source, target, point, sources, estimate } = subject;
  list.add({
    name: "stop-services",
    hostId: target.id,
    action: "stop-services",
    params: {},
    timeoutMs: 5 * MINUTE,
    maxAttempts: 2,
    description: `stop the application services on ${target.name}`,
  });
  for (const step of RESTORE_STEPS) {
    const chosen = sources.filter((s) => step.kinds.includes(s.kind));
    if (chosen.length === 0) continue;
    list.add({
      name: step.name,
      hostId: target.id,
      action: step.action,
      params: { recoveryPointId: point.id, sources: chosen.map((s) => s.name), repository: source.id },
      timeoutMs: restoreTimeoutMs(estimate),
      maxAttempts: 2,
      description: `restore ${step.what} (${chosen.map((s) => s.name).join(", ")}) from ${source.name}'s repository onto ${target.name}`,
    });
  }
  list.add({
    name: "start-services",
    hostId: target.id,
    action: "start-services",
    params: {},
    timeoutMs: 5 * MINUTE,
    maxAttempts: 2,
    description: `start the application services on ${target.name}`,
  });
  list.add({
    name: "verify-health",
    hostId: target.id,
    action: "verify-health",
    params: { timeoutSeconds: 300 },
    timeoutMs: 10 * MINUTE,
    maxAttempts: 3,
    description: `wait until ${target.name}'s application answers its health check`,
  });
}

function planSteps(subject: RestoreSubject): { steps: PlannedStep[]; restores: PlannedRestore[] } {
  const { source: failed, target: replacement } = subject;
  const list = new StepList();
  assessStep(list, replacement, "the disk space and compatible server versions");
  addRunbookSteps(list, subject);
  list.add({
    name: "take-over",
    hostId: null,
    action: "take-over",
    params: {},
    timeoutMs: MINUTE,
    description: `${replacement.name} takes over ${failed.name}'s identity: certificates, policies, history; ${failed.name}'s old certificates are revoked`,
  });
  return { steps: list.steps, restores: plannedRestores(subject.sources, restoreStepOf) };
}

/** Plans a central restore and assesses it; writes nothing. */
export async function planHostRestore(
  deps: { db: Catalog; sessions: SessionRegistry },
  request: HostRestoreRequest,
  now = new Date(),
): Promise<HostRestorePlan> {
  const subject = await restoreSubject(deps.db, request.failedHost, request.replacementHost, request);
  const { source: failed, target: replacement } = subject;
  const assessment = await assessHostRestore(deps, {
    failed,
    replacement,
    versions: subject.versions,
    sources: subject.sources,
    totalBytes: subject.totalBytes,
  });
  const { steps, restores } = planSteps(subject);
  return {
    kind: "host-restore",
    failedHost: { id: failed.id, name: failed.name },
    replacementHost: { id: replacement.id, name: replacement.name },
    ...pointRestorePlan(subject, { restores, assessment, steps }, now),
  };
}
