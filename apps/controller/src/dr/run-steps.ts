// One DR run's steps in memory while the orchestrator advances it: every
// change is written to the catalog first, then mirrored here.
import type { Catalog, DrRun, DrStep, Prisma } from "@pwdr/catalog";

export type StepUpdate = Prisma.DrStepUpdateManyMutationInput;

export const FINAL_STEP_STATES = new Set(["succeeded", "failed", "skipped", "cancelled"]);

export class RunSteps {
  constructor(
    private readonly db: Catalog,
    readonly run: DrRun,
    private steps: DrStep[],
  ) {}

  all(): readonly DrStep[] {
    return this.steps;
  }

  inState(state: string): DrStep[] {
    return this.steps.filter((s) => s.state === state);
  }

  at(position: number): DrStep | undefined {
    return this.steps.find((s) => s.position === position);
  }

  get(id: string): DrStep {
    const step = this.steps.find((s) => s.id === id);
    if (!step) throw new Error(`step ${id} is not part of run ${this.run.id}`);
    return step;
  }

  /** Writes the change when the step is still in `from` (another writer may have moved it); false if not. */
  async update(step: DrStep, data: StepUpdate, from = step.state): Promise<boolean> {
    const { count } = await this.db.drStep.updateMany({ where: { id: step.id, state: from }, data });
    const fresh = await this.db.drStep.findUniqueOrThrow({ where: { id: step.id } });
    this.steps = this.steps.map((s) => (s.id === step.id ? fresh : s));
    return count === 1;
  }

  done(): boolean {
    return this.steps.every((s) => FINAL_STEP_STATES.has(s.state));
  }
}

/** Positions of the steps this one waits for. */
export function dependsOnOf(step: DrStep): number[] {
  return Array.isArray(step.dependsOn) ? (step.dependsOn as unknown[]).map(Number) : [];
}

export function paramsOf(step: DrStep): Record<string, unknown> {
  return (step.params ?? {}) as Record<string, unknown>;
}
