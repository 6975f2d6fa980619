// An operator's ordered plan across hosts (e.g. the database host first, then
// the app hosts): each step an action on one host's agent.
import type { Catalog, DrStepAction, Host } from "@pwdr/catalog";
import type { SessionRegistry } from "../session-registry.js";
import { assessPlanHosts } from "./assessment.js";
import { DrPlanError } from "./dr-errors.js";
import { resolveHost } from "./host-ref.js";
import type { MultiHostPlan, OnFailure, PlannedStep } from "./plan-types.js";
import { CONTROLLER_ACTIONS, stepParamProblems } from "./step-jobs.js";

export interface PlanStepInput {
  name: string;
  /** Id or name of the host whose agent runs it. */
  hostId: string;
  action: DrStepAction;
  params?: Record<string, unknown> | undefined;
  /** Names of earlier steps that must succeed first; the previous step when omitted. */
  dependsOn?: string[] | undefined;
  timeoutSeconds?: number | undefined;
  maxAttempts?: number | undefined;
  onFailure?: OnFailure | undefined;
}

const DEFAULT_TIMEOUT_SECONDS = 30 * 60;

function dependencies(input: PlanStepInput, position: number, earlier: Map<string, number>): number[] {
  if (input.dependsOn === undefined) return position === 0 ? [] : [position - 1];
  return input.dependsOn.map((name) => {
    const at = earlier.get(name);
    if (at === undefined) {
      throw new DrPlanError(
        `step "${input.name}" depends on "${name}", which is not an earlier step of the plan; steps run in the order given`,
      );
    }
    return at;
  });
}

function checkStep(input: PlanStepInput, earlier: Map<string, number>): void {
  if (earlier.has(input.name))
    throw new DrPlanError(`two steps are named "${input.name}"; names must be unique`);
  if (CONTROLLER_ACTIONS.has(input.action)) {
    throw new DrPlanError(
      `step "${input.name}": ${input.action} is not a plan step (plans assess their hosts themselves; take-over belongs to a host restore)`,
    );
  }
  const problems = stepParamProblems(input.action, input.params ?? {});
  if (problems.length > 0) throw new DrPlanError(`step "${input.name}" params: ${problems.join("; ")}`);
}

/** Checks and numbers the steps, resolves their hosts and assesses them; writes nothing. */
export async function planMultiHost(
  deps: { db: Catalog; sessions: SessionRegistry },
  inputs: PlanStepInput[],
): Promise<MultiHostPlan> {
  const earlier = new Map<string, number>();
  const hosts = new Map<string, Host>();
  const steps: PlannedStep[] = [];
  for (const [position, input] of inputs.entries()) {
    checkStep(input, earlier);
    const host = await resolveHost(deps.db, input.hostId);
    hosts.set(host.id, host);
    steps.push({
      position,
      name: input.name,
      hostId: host.id,
      action: input.action,
      params: input.params ?? {},
      dependsOn: dependencies(input, position, earlier),
      timeoutMs: (input.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
      maxAttempts: input.maxAttempts ?? 1,
      onFailure: input.onFailure ?? "abort",
      description: `${input.action} on ${host.name}`,
    });
    earlier.set(input.name, position);
  }
  const all = [...hosts.values()];
  return {
    kind: "plan",
    hosts: all.map((h) => ({ id: h.id, name: h.name })),
    assessment: assessPlanHosts(deps.sessions, all),
    steps,
  };
}
