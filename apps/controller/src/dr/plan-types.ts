// The shape of a DR plan: what a dry run shows and what a run is made from.
import type { DrStepAction } from "@pwdr/catalog";

export type OnFailure = "abort" | "continue";

/** One step as planned; a run stores it as a DrStep row at the same position. */
export interface PlannedStep {
  position: number;
  name: string;
  /** The agent that runs it; null for steps the controller runs (assess, take-over). */
  hostId: string | null;
  action: DrStepAction;
  /** For agent steps, the job spec it sends (see step-jobs.ts). */
  params: Record<string, unknown>;
  /** Positions of the steps that must succeed first. */
  dependsOn: number[];
  timeoutMs: number;
  maxAttempts: number;
  onFailure: OnFailure;
  /** What it does, for people. */
  description: string;
}

/** A source of the recovery point and where it goes. */
export interface PlannedRestore {
  source: string;
  kind: string;
  sizeBytes: number;
  fileCount: number;
  /** Name of the step that restores it. */
  step: string;
}

export interface RestoreEstimate {
  ms: number;
  basis: "history" | "size";
  /** How the figure was reached, for people. */
  note: string;
}

export interface Assessment {
  ok: boolean;
  /** Why the run may not start; empty when ok. */
  problems: string[];
  /** What was checked and what was found. */
  checks: { name: string; ok: boolean; detail: string }[];
}

export interface HostRef {
  id: string;
  name: string;
}

/** What a plan that restores one recovery point shows: the point, what goes where, the estimate, the checks. */
export interface PointRestorePlan {
  recoveryPoint: { id: string; time: string; status: string; versions: Record<string, string> };
  /** Age of the recovery point now: the data a restore would lose. */
  rpoMs: number;
  restores: PlannedRestore[];
  totalBytes: number;
  estimate: RestoreEstimate;
  assessment: Assessment;
  steps: PlannedStep[];
}

/** A central restore of a failed host onto a replacement, as the dry run shows it. */
export interface HostRestorePlan extends PointRestorePlan {
  kind: "host-restore";
  failedHost: HostRef;
  replacementHost: HostRef;
}

/** sandbox: restored into the target agent's throw-away servers and checked; standby: the runbook on the target's own services. */
export type DrillMode = "sandbox" | "standby";

/** A fleet drill: a host's recovery point restored onto a standby or sandbox agent, checked, timed. */
export interface FleetDrillPlan extends PointRestorePlan {
  kind: "drill";
  mode: DrillMode;
  /** Whose recovery point is drilled. */
  host: HostRef;
  /** The standby or sandbox agent it is restored onto. */
  target: HostRef;
}

/** An ordered plan of steps across hosts, as the operator wrote it. */
export interface MultiHostPlan {
  kind: "plan";
  hosts: HostRef[];
  assessment: Assessment;
  steps: PlannedStep[];
}

export type DrPlan = HostRestorePlan | FleetDrillPlan | MultiHostPlan;
