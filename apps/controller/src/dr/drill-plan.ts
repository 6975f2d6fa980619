// A fleet drill's plan: a host's recovery point restored onto another agent
// and checked. In a sandbox the target restores into throw-away servers and
// compares the data with what the backup recorded; on a standby it runs the
// runbook's chain on its own services and must answer its health check.
// Nothing is taken over: the drilled host keeps running.
import type { Catalog } from "@pwdr/catalog";
import type { SessionRegistry } from "../session-registry.js";
import { assessHostRestore } from "./assessment.js";
import {
  addRunbookSteps,
  assessStep,
  plannedRestores,
  pointRestorePlan,
  type RestoreSubject,
  restoreStepOf,
  restoreSubject,
  restoreTimeoutMs,
  StepList,
} from "./host-restore-plan.js";
import type { DrillMode, FleetDrillPlan } from "./plan-types.js";
import type { PointChoice } from "./recovery-point-choice.js";

export const DEFAULT_DRILL_MODE: DrillMode = "sandbox";

export interface FleetDrillRequest extends PointChoice {
  /** Id or name of the host whose recovery point is drilled. */
  host: string;
  /** Id or name of the standby or sandbox agent. */
  target: string;
  mode?: DrillMode | undefined;
}

function sandboxSteps(list: StepList, subject: RestoreSubject): void {
  const { source, target, point } = subject;
  list.add({
    name: "drill",
    hostId: target.id,
    action: "drill",
    params: { recoveryPointId: point.id, repository: source.id },
    timeoutMs: restoreTimeoutMs(subject.estimate),
    description: `restore ${source.name}'s recovery point into a sandbox on ${target.name} and check row counts, key counts and file checksums against the backup`,
  });
}

/** Plans a fleet drill and assesses it; writes nothing. */
export async function planFleetDrill(
  deps: { db: Catalog; sessions: SessionRegistry },
  request: FleetDrillRequest,
  now = new Date(),
): Promise<FleetDrillPlan> {
  const mode = request.mode ?? DEFAULT_DRILL_MODE;
  const subject = await restoreSubject(deps.db, request.host, request.target, request);
  const { source: host, target } = subject;
  const assessment = await assessHostRestore(deps, {
    failed: host,
    replacement: target,
    versions: subject.versions,
    sources: subject.sources,
    totalBytes: subject.totalBytes,
    drill: mode,
  });
  const list = new StepList();
  assessStep(
    list,
    target,
    mode === "sandbox" ? "the disk space for a sandbox" : "the disk space and compatible server versions",
  );
  if (mode === "sandbox") sandboxSteps(list, subject);
  else addRunbookSteps(list, subject);
  const restores = plannedRestores(subject.sources, mode === "sandbox" ? () => "drill" : restoreStepOf);
  return {
    kind: "drill",
    mode,
    host: { id: host.id, name: host.name },
    target: { id: target.id, name: target.name },
    ...pointRestorePlan(subject, { restores, assessment, steps: list.steps }, now),
  };
}
