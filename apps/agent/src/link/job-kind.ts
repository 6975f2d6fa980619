import type { Job } from "@pwdr/protocol";
import type { RecordedJob } from "../daemon/journal.js";

/** JobResult.kind: what the controller calls each job. */
export type JobKind = "backup" | "restore" | "verify" | "prune" | "drill" | "service" | "health" | "command";

const KIND_OF_SPEC = {
  backup: "backup",
  restore: "restore",
  verify: "verify",
  prune: "prune",
  drill: "drill",
  serviceAction: "service",
  healthCheck: "health",
  command: "command",
} as const satisfies Record<NonNullable<Job["spec"]["case"]>, JobKind>;

export function kindOf(job: Job): JobKind | undefined {
  return job.spec.case ? KIND_OF_SPEC[job.spec.case] : undefined;
}

/** The journal's name for a kind: the config's job names, so `status` and `history` read both alike. */
export function recordedJobOf(kind: JobKind | undefined): RecordedJob {
  switch (kind) {
    case "verify":
      return "check";
    case "prune":
      return "retention";
    case undefined:
      return "backup";
    default:
      return kind;
  }
}

/** The journal job a policy schedule's runs were recorded under before it had slot keys. */
export function recordedJobOfSchedule(name: string): RecordedJob | undefined {
  const known: Record<string, RecordedJob> = {
    backup: "backup",
    check: "check",
    drill: "drill",
    retention: "retention",
    prune: "retention",
  };
  return known[name];
}

/** The kind of a journaled run, for a result written after the fact (an abandoned run). */
export function kindOfRecorded(job: RecordedJob): JobKind {
  switch (job) {
    case "check":
      return "verify";
    case "retention":
      return "prune";
    default:
      return job;
  }
}
