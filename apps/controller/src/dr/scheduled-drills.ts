// Fleet drills on a policy's schedule: at each slot of a host's
// fleetDrillSchedule, its latest recovery point is drilled onto the policy's
// fleetDrillHost. One run per slot (DrRun.slotKey is unique), the latest slot
// only, so a controller that was down catches up once. A drill that cannot
// start is recorded as a failed run with the reason: the trend must show it.
import { type Catalog, type DrRun, isUniqueViolation, type Prisma } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import type { FleetHost } from "../scheduling/fleet-view.js";
import { latestSlot } from "../scheduling/slots.js";
import type { SessionRegistry } from "../session-registry.js";
import { DrNotFoundError, DrPlanError } from "./dr-errors.js";
import { DEFAULT_DRILL_MODE, planFleetDrill } from "./drill-plan.js";
import type { DrillMode } from "./plan-types.js";
import { startRun } from "./start-run.js";

export const DRILL_ACTOR = "system:fleet-drill";

export interface ScheduledDrillsDeps {
  db: Catalog;
  sessions: SessionRegistry;
  log: Logger;
  /** A run was started: advance it now. */
  started(): void;
  /** A drill that could not start was recorded as a failed run (notifications). */
  refused?: (run: DrRun) => void;
}

interface DueDrill {
  hostId: string;
  hostName: string;
  slotKey: string;
  target: string | undefined;
  mode: DrillMode;
}

/** The drill a host's policy owes at `now`: its latest slot, if newer than the host and the policy. */
export function dueDrill(entry: FleetHost, now: Date): DueDrill | undefined {
  const { host, policy } = entry;
  const cron = policy?.verification.fleetDrillSchedule;
  if (!policy || !cron) return undefined;
  const slot = latestSlot(cron, now);
  const floor = Math.max(host.createdAt.getTime(), policy.governing.updatedAt.getTime());
  if (!slot || slot.getTime() < floor) return undefined;
  return {
    hostId: host.id,
    hostName: host.name,
    slotKey: `${host.id}/fleet-drill@${slot.toISOString()}`,
    target: policy.verification.fleetDrillHost ?? undefined,
    mode: policy.verification.fleetDrillMode ?? DEFAULT_DRILL_MODE,
  };
}

export class ScheduledDrills {
  /** Slot keys this process has seen through: a tick costs no query per host until a new slot. */
  readonly #ensured = new Map<string, string>();

  constructor(private readonly deps: ScheduledDrillsDeps) {}

  /** Starts (or records as failed) the drills owed now; answers how many runs it created. */
  async tick(hosts: Iterable<FleetHost>, now: Date): Promise<number> {
    let created = 0;
    for (const entry of hosts) {
      const due = dueDrill(entry, now);
      if (!due || this.#ensured.get(due.hostId) === due.slotKey) continue;
      const exists = await this.deps.db.drRun.findUnique({ where: { slotKey: due.slotKey } });
      if (!exists && (await this.#create(due, now))) created++;
      this.#ensured.set(due.hostId, due.slotKey);
    }
    return created;
  }

  async #create(due: DueDrill, now: Date): Promise<boolean> {
    const { db, sessions, log } = this.deps;
    try {
      if (!due.target) {
        throw new DrPlanError(
          "the policy sets verification.fleetDrillSchedule but no verification.fleetDrillHost: name the standby or sandbox agent to drill onto",
        );
      }
      const plan = await planFleetDrill(
        { db, sessions },
        { host: due.hostId, target: due.target, mode: due.mode },
        now,
      );
      if (!plan.assessment.ok) {
        await this.#recordRefused(due, plan.assessment.problems.join("; "), plan, now);
        return true;
      }
      const run = await startRun(db, plan, DRILL_ACTOR, { slotKey: due.slotKey, now });
      log.info("fleet drill started", { runId: run.id, host: due.hostName, target: plan.target.name });
      this.deps.started();
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      if (!(err instanceof DrPlanError || err instanceof DrNotFoundError)) throw err;
      await this.#recordRefused(due, err.message, undefined, now);
      return true;
    }
  }

  async #recordRefused(due: DueDrill, reason: string, plan: object | undefined, now: Date): Promise<void> {
    const record = plan ?? {
      kind: "drill",
      mode: due.mode,
      host: { id: due.hostId, name: due.hostName },
      assessment: { ok: false, problems: [reason], checks: [] },
      steps: [],
    };
    let run: DrRun;
    try {
      run = await this.deps.db.drRun.create({
        data: {
          kind: "drill",
          state: "failed",
          failedHostId: due.hostId,
          plan: record as Prisma.InputJsonObject,
          reason: `the scheduled drill could not start: ${reason}`,
          createdBy: DRILL_ACTOR,
          startedAt: now,
          finishedAt: now,
          slotKey: due.slotKey,
        },
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return;
    }
    this.deps.log.warn("fleet drill could not start", { host: due.hostName, reason });
    this.deps.refused?.(run);
  }
}
