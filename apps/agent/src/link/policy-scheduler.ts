import type { Logger } from "@pwdr/logging";
import type { Job } from "@pwdr/protocol";
import { Cron } from "croner";
import type { RunRecord, RunTrigger } from "../daemon/journal.js";
import { cronOptions, decideLocalRun, localJob, missedSlot, type ScheduleEntry } from "./policy-schedule.js";

export interface PolicySchedulerOptions {
  /** Whether the session with the controller is up (welcomed) right now. */
  connected: () => boolean;
  submit: (job: Job, trigger: RunTrigger) => void;
  log: Logger;
}

/**
 * Fires the agent's schedules. At each slot it waits the schedule's jitter,
 * then runs the slot itself unless the controller is connected and owns the
 * schedule (the controller dispatches that slot). Replacing the schedules
 * (a new policy) stops the old crons and the slots still in their jitter.
 */
export class PolicyScheduler {
  #crons: Cron[] = [];
  #jitters = new Set<NodeJS.Timeout>();
  #entries: ScheduleEntry[] = [];

  constructor(private readonly options: PolicySchedulerOptions) {}

  get entries(): readonly ScheduleEntry[] {
    return this.#entries;
  }

  replace(entries: ScheduleEntry[]): void {
    this.stop();
    this.#entries = entries;
    this.#crons = entries.map((entry) => new Cron(entry.cron, cronOptions(entry), () => this.#fire(entry)));
  }

  /** Runs once the latest slot each catching-up schedule missed since its last run here. */
  catchUp(entries: readonly ScheduleEntry[], runs: readonly RunRecord[], now: Date): void {
    for (const entry of entries) {
      if (!entry.catchUp) continue;
      const slot = missedSlot(entry, runs, now);
      if (!slot || decideLocalRun(entry, this.options.connected()) !== "run-locally") continue;
      this.options.log.info("catching up a missed run", { schedule: entry.name, slot: slot.toISOString() });
      this.options.submit(localJob(entry, slot), "catch-up");
    }
  }

  stop(): void {
    for (const cron of this.#crons) cron.stop();
    for (const timer of this.#jitters) clearTimeout(timer);
    this.#crons = [];
    this.#jitters.clear();
  }

  #fire(entry: ScheduleEntry): void {
    // Cron fires on whole seconds, a few milliseconds late: the slot is the second it fired for.
    const slot = new Date(Math.round(Date.now() / 1000) * 1000);
    const timer = setTimeout(() => {
      this.#jitters.delete(timer);
      if (decideLocalRun(entry, this.options.connected()) === "leave-to-controller") {
        this.options.log.debug("slot left to the controller", {
          schedule: entry.name,
          slot: slot.toISOString(),
        });
        return;
      }
      this.options.submit(localJob(entry, slot), "schedule");
    }, entry.jitterSeconds * 1000);
    this.#jitters.add(timer);
  }
}
