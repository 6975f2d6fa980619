// A confirmed plan becomes a run: one DrRun row and a DrStep row per step,
// all pending; the orchestrator takes it from there.
import type { Catalog, DrRun, Prisma } from "@pwdr/catalog";
import { DrRefusedError } from "./dr-errors.js";
import type { DrPlan } from "./plan-types.js";

/** The host whose point is restored and the agent it goes to: the run's read grant follows them. */
function restorePair(plan: DrPlan) {
  if (plan.kind === "host-restore")
    return { from: plan.failedHost, onto: plan.replacementHost, point: plan.recoveryPoint };
  if (plan.kind === "drill") return { from: plan.host, onto: plan.target, point: plan.recoveryPoint };
  return undefined;
}

export interface StartRunOptions {
  /** A scheduled drill's slot: a second start for the same slot finds the first run instead. */
  slotKey?: string;
  now?: Date;
}

/** Starts a run of an assessed plan; refuses one whose assessment found problems. */
export async function startRun(
  db: Catalog,
  plan: DrPlan,
  createdBy: string,
  options: StartRunOptions = {},
): Promise<DrRun> {
  if (!plan.assessment.ok) throw new DrRefusedError(plan.assessment.problems);
  const now = options.now ?? new Date();
  const pair = restorePair(plan);
  return db.drRun.create({
    data: {
      kind: plan.kind,
      state: "running",
      failedHostId: pair?.from.id ?? null,
      replacementHostId: pair?.onto.id ?? null,
      recoveryPointId: pair?.point.id ?? null,
      plan: plan as unknown as Prisma.InputJsonObject,
      createdBy,
      startedAt: now,
      rpoMs: pair ? now.getTime() - new Date(pair.point.time).getTime() : null,
      slotKey: options.slotKey ?? null,
      steps: {
        create: plan.steps.map((s) => ({
          position: s.position,
          name: s.name,
          hostId: s.hostId,
          action: s.action,
          params: s.params as Prisma.InputJsonObject,
          dependsOn: s.dependsOn,
          timeoutMs: s.timeoutMs,
          maxAttempts: s.maxAttempts,
          onFailure: s.onFailure,
        })),
      },
    },
  });
}
