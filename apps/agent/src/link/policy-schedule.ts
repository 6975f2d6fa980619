import { randomUUID } from "node:crypto";
import { clone, create, type MessageInitShape } from "@bufbuild/protobuf";
import { type AgentPolicy, type Job, JobSchema } from "@pwdr/protocol";
import { Cron } from "croner";
import type { AgentConfig } from "../config/agent-config.js";
import type { RunRecord } from "../daemon/journal.js";
import { recordedJobOfSchedule } from "./job-kind.js";

type JobInit = MessageInitShape<typeof JobSchema>;

/** One schedule the agent follows: from the controller's policy, or from its config until a policy arrives. */
export interface ScheduleEntry {
  name: string;
  cron: string;
  jitterSeconds: number;
  template: Job;
  catchUp: boolean;
  /** A policy schedule: while the session is up, the controller dispatches its slots itself. */
  fromController: boolean;
  /** The zone the cron is evaluated in (the controller's, for a policy); the agent's own when unset. */
  timeZone?: string;
}

/** croner options for an entry: its time zone, when it has one. */
export function cronOptions(entry: ScheduleEntry): { timezone?: string } {
  return entry.timeZone ? { timezone: entry.timeZone } : {};
}

export function schedulesOfPolicy(policy: AgentPolicy): ScheduleEntry[] {
  return policy.schedules.flatMap((s) =>
    s.template
      ? [
          {
            name: s.name,
            cron: s.cron,
            jitterSeconds: s.jitterSeconds,
            template: s.template,
            catchUp: s.catchUp,
            fromController: true,
            ...(s.timeZone ? { timeZone: s.timeZone } : {}),
          },
        ]
      : [],
  );
}

/** The config's `schedules` as the same entries: the controller does not know them, so they always run here. */
export function schedulesOfConfig(config: AgentConfig): ScheduleEntry[] {
  const schedules = config.schedules;
  if (!schedules) return [];
  const catchUp = schedules.catchUp === "once";
  const entry = (
    name: string,
    cron: string | undefined,
    spec: NonNullable<JobInit["spec"]>,
  ): ScheduleEntry[] =>
    cron
      ? [
          {
            name,
            cron,
            jitterSeconds: 0,
            template: create(JobSchema, { spec }),
            catchUp,
            fromController: false,
          },
        ]
      : [];
  const { prune: _prune, ...rules } = config.retention ?? {};
  const keep = Object.fromEntries(Object.entries(rules).filter(([, n]) => n !== undefined));
  return [
    ...entry("backup", schedules.backup, { case: "backup", value: {} }),
    ...entry("check", schedules.check, {
      case: "verify",
      value: { readDataSubset: config.verify.readDataSubset },
    }),
    ...entry("retention", schedules.retention, { case: "prune", value: { retention: keep } }),
    ...entry("drill", schedules.drill, { case: "drill", value: {} }),
  ];
}

export type LocalRunDecision = "run-locally" | "leave-to-controller";

/** At a slot's time (after its jitter): who runs it. */
export function decideLocalRun(
  entry: Pick<ScheduleEntry, "fromController">,
  connected: boolean,
): LocalRunDecision {
  return entry.fromController && connected ? "leave-to-controller" : "run-locally";
}

export function slotKeyOf(name: string, slot: Date): string {
  return `${name}@${slot.toISOString()}`;
}

/** The job the agent runs for a slot by itself: a fresh job_id, the slot's key, the template's spec. */
export function localJob(entry: ScheduleEntry, slot: Date): Job {
  const job = clone(JobSchema, entry.template);
  job.jobId = randomUUID();
  job.attempt = 1;
  job.slotKey = slotKeyOf(entry.name, slot);
  job.deadline = undefined;
  return job;
}

/** When this schedule last ran here: the slot of its last run, else the last run of its job before slots were kept. */
export function lastRunOf(entry: ScheduleEntry, runs: readonly RunRecord[]): Date | undefined {
  const prefix = `${entry.name}@`;
  const slotted = runs.filter((r) => r.slotKey?.startsWith(prefix)).at(-1);
  if (slotted?.slotKey) return new Date(slotted.slotKey.slice(prefix.length));
  const job = recordedJobOfSchedule(entry.name);
  const last = runs.filter((r) => r.job === job).at(-1);
  return last ? new Date(last.startedAt) : undefined;
}

/** The latest slot missed since the schedule's last run here, if any (a never-run schedule misses nothing). */
export function missedSlot(entry: ScheduleEntry, runs: readonly RunRecord[], now: Date): Date | undefined {
  const last = lastRunOf(entry, runs);
  if (!last) return undefined;
  const latest = new Cron(entry.cron, { paused: true, ...cronOptions(entry) }).previousRuns(1, now)[0];
  return latest && latest > last ? latest : undefined;
}
