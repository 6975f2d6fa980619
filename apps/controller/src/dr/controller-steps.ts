// Steps the controller runs itself: the assessment before anything is
// touched (host restores and fleet drills), and the take-over at the end of
// a host restore.
import type { Catalog, DrRun, DrStep, Prisma } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { SessionRegistry } from "../session-registry.js";
import { assessHostRestore } from "./assessment.js";
import type { FleetDrillPlan, HostRestorePlan } from "./plan-types.js";
import { takeOver } from "./take-over.js";

interface Deps {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
  now(): Date;
}

type Outcome =
  | { ok: true; output: Prisma.InputJsonObject }
  | { ok: false; error: string; output?: Prisma.InputJsonObject };

function hostRestorePlan(run: DrRun): HostRestorePlan {
  const plan = run.plan as unknown as HostRestorePlan;
  if (run.kind !== "host-restore" || !run.failedHostId || !run.replacementHostId) {
    throw new Error(`run ${run.id} is not a host restore; it has no failed and replacement host`);
  }
  return plan;
}

/** The restore a run assesses: a host restore's or a fleet drill's. */
function restorePlanOf(run: DrRun): HostRestorePlan | FleetDrillPlan {
  if (run.kind === "drill") return run.plan as unknown as FleetDrillPlan;
  return hostRestorePlan(run);
}

async function assess(deps: Deps, run: DrRun): Promise<Outcome> {
  const plan = restorePlanOf(run);
  const [fromId, ontoId] =
    plan.kind === "drill" ? [plan.host.id, plan.target.id] : [plan.failedHost.id, plan.replacementHost.id];
  const [failed, replacement] = await Promise.all([
    deps.db.host.findUniqueOrThrow({ where: { id: fromId } }),
    deps.db.host.findUniqueOrThrow({ where: { id: ontoId } }),
  ]);
  const assessment = await assessHostRestore(deps, {
    failed,
    replacement,
    versions: plan.recoveryPoint.versions,
    sources: plan.restores.map((r) => ({ name: r.source, kind: r.kind })),
    totalBytes: plan.totalBytes,
    runId: run.id,
    ...(plan.kind === "drill" ? { drill: plan.mode } : {}),
  });
  const output = assessment as unknown as Prisma.InputJsonObject;
  return assessment.ok ? { ok: true, output } : { ok: false, error: assessment.problems.join("; "), output };
}

export async function runControllerStep(deps: Deps, run: DrRun, step: DrStep): Promise<Outcome> {
  if (step.action === "assess") return assess(deps, run);
  if (step.action === "take-over") {
    hostRestorePlan(run);
    const report = await takeOver(
      deps,
      {
        id: run.id,
        failedHostId: run.failedHostId as string,
        replacementHostId: run.replacementHostId as string,
      },
      deps.now(),
    );
    return { ok: true, output: { ...report } };
  }
  throw new Error(`DR action ${step.action} does not run on the controller`);
}
