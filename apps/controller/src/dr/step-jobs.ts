// Agent steps run as ordinary fleet jobs: which job kind each action becomes
// and the spec it carries (the DR contract).
import type { DrStepAction, JobKind } from "@pwdr/catalog";
import { specProblems } from "../jobs/job-spec.js";

/** Steps the controller runs itself; every other action is a job on the step's host. */
export const CONTROLLER_ACTIONS: ReadonlySet<DrStepAction> = new Set(["assess", "take-over"]);

const JOB_KIND_OF: Partial<Record<DrStepAction, JobKind>> = {
  "stop-services": "service",
  "start-services": "service",
  "restore-database": "restore",
  "restore-redis": "restore",
  "restore-config": "restore",
  "restore-data": "restore",
  "verify-health": "health",
  command: "command",
  drill: "drill",
};

export interface StepJob {
  kind: JobKind;
  spec: Record<string, unknown>;
}

/** The job an agent step runs: its params are the spec, service steps add their action. */
export function stepJob(action: DrStepAction, params: Record<string, unknown>): StepJob {
  const kind = JOB_KIND_OF[action];
  if (!kind) throw new Error(`DR action ${action} runs on the controller, not as a job`);
  if (action === "stop-services") return { kind, spec: { ...params, action: "stop" } };
  if (action === "start-services") return { kind, spec: { ...params, action: "start" } };
  if (kind === "restore") return { kind, spec: { manageServices: false, ...params } };
  return { kind, spec: params };
}

/** Problems of an agent step's params, as "<path>: <message>"; empty when the job would be valid. */
export function stepParamProblems(action: DrStepAction, params: Record<string, unknown>): string[] {
  if (CONTROLLER_ACTIONS.has(action)) return [];
  const { kind, spec } = stepJob(action, params);
  return specProblems(kind, spec).map((p) => `${p.path || "/"}: ${p.message}`);
}
