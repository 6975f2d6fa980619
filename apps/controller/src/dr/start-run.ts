// A confirmed plan becomes a run: one DrRun row and a DrStep row per step,
// all pending; the orchestrator takes it from there.
import type { Catalog, DrRun, Prisma } from "@pwdr/catalog";
import { DrRefusedError } from "./dr-errors.js";
import type { DrPlan } from "./plan-types.js";

/** Starts a run of an assessed plan; refuses one whose assessment found problems. */
export async function startRun(
  db: Catalog,
  plan: DrPlan,
  createdBy: string,
  now = new Date(),
): Promise<DrRun> {
  if (!plan.assessment.ok) throw new DrRefusedError(plan.assessment.problems);
  const hostRestore = plan.kind === "host-restore" ? plan : undefined;
  return db.drRun.create({
    data: {
      kind: plan.kind,
      state: "running",
      failedHostId: hostRestore?.failedHost.id ?? null,
      replacementHostId: hostRestore?.replacementHost.id ?? null,
      recoveryPointId: hostRestore?.recoveryPoint.id ?? null,
      plan: plan as unknown as Prisma.InputJsonObject,
      createdBy,
      startedAt: now,
      rpoMs: hostRestore ? now.getTime() - new Date(hostRestore.recoveryPoint.time).getTime() : null,
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
