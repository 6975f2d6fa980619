// Host-level backup and restore: a host definition (its sources, service
// control and health check), recovery points that group one run's snapshots
// of every source, and host restore in the runbook's order.

export {
  type HealthCheck,
  type HostDefinition,
  type HostDefinitionInput,
  hostDefinitionObject,
  hostDefinitionSchema,
  type ServiceControl,
  type SourceDefinition,
  serviceControlSchema,
  uniqueSourceNames,
} from "./definition/host-definition.js";
export {
  DefinitionError,
  type DefinitionProblem,
  loadHostDefinition,
  loadYamlDefinition,
  parseYamlDefinition,
} from "./definition/load-definition.js";
export { type ServerFacts, serverFacts } from "./definition/server-facts.js";
export type { DrillAssertion, DrillResult, SourceDrill } from "./drill/drill-result.js";
export { type DrillOptions, runDrill } from "./drill/run-drill.js";
export { openSandbox, type Sandbox, type SandboxOptions, type SandboxTarget } from "./drill/sandbox.js";
export {
  type HealthAnswer,
  type HealthPoll,
  type HealthResult,
  type PollOptions,
  pollHealth,
  waitHealthy,
} from "./health/wait-healthy.js";
export {
  type CreateRecoveryPointOptions,
  createRecoveryPoint,
  type RecoveryPointProgress,
} from "./recovery-point/create-recovery-point.js";
export type { SampledFile } from "./recovery-point/file-sample.js";
export { findRecoveryPoint, listRecoveryPoints } from "./recovery-point/find-recovery-points.js";
export { type ForgetPointsResult, forgetRecoveryPoints } from "./recovery-point/forget-recovery-points.js";
export type { RecoveryPoint, SourceOutcome, StoredRecoveryPoint } from "./recovery-point/recovery-point.js";
export type { VersionCheck } from "./restore/check-versions.js";
export type { RestoreMapping } from "./restore/mapping.js";
export { ReplacementRefusal } from "./restore/replacement-refusal.js";
export { type HostRestoreOptions, type HostRestoreReport, restoreHost } from "./restore/restore-host.js";
export type { PlannedStep, StepKind, StepReport } from "./restore/restore-step.js";
export { type ServiceHooks, serviceHooks } from "./services/service-hooks.js";
