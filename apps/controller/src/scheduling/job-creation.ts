// Creating the jobs of a policy's schedules: one per host, schedule and cron
// slot, keyed so that restarts and concurrent controllers never duplicate one.
import { type Catalog, isUniqueViolation, type Prisma } from "@pwdr/catalog";
import type { FleetHost } from "./fleet-view.js";
import { jitterMsOf, type PolicySchedule, schedulesOf, slotKey } from "./schedules.js";
import { jitterSeconds, latestSlot } from "./slots.js";

export const SCHEDULER_ACTOR = "system:scheduler";

/** A job a schedule owes now: its latest slot, if that is not older than the host or the policy. */
export interface DueSlot {
  schedule: PolicySchedule;
  slot: Date;
  idempotencyKey: string;
  scheduledFor: Date;
}

/**
 * The latest slot of each schedule at or before `now`, so a controller that
 * was down catches up once rather than once per missed slot. Slots before the
 * host existed or before its governing policy last changed are not owed.
 */
export function dueSlots(entry: FleetHost, now: Date): DueSlot[] {
  const { host, policy } = entry;
  if (!policy) return [];
  const floor = Math.max(host.createdAt.getTime(), policy.governing.updatedAt.getTime());
  const jitterMs = jitterMsOf(policy);
  return schedulesOf(policy).flatMap((schedule) => {
    const slot = latestSlot(schedule.cron, now);
    if (!slot || slot.getTime() < floor) return [];
    return [
      {
        schedule,
        slot,
        idempotencyKey: `${host.id}/${slotKey(schedule.name, slot)}`,
        scheduledFor: new Date(slot.getTime() + jitterSeconds(host.id, schedule.name, jitterMs) * 1_000),
      },
    ];
  });
}

/**
 * An older slot's job still waiting (its host was away) is not run as well:
 * catching up means running once, for the latest slot.
 */
async function supersede(db: Catalog, hostId: string, due: DueSlot): Promise<void> {
  await db.job.updateMany({
    where: {
      hostId,
      schedule: due.schedule.name,
      state: "pending",
      idempotencyKey: { not: due.idempotencyKey },
      scheduledFor: { lt: due.scheduledFor },
    },
    data: {
      state: "missed",
      finishedAt: new Date(),
      reason: `superseded by the newer slot ${due.idempotencyKey.slice(hostId.length + 1)} before it could be dispatched`,
    },
  });
}

/** Inserts the job; false when it exists already (created earlier, or by another controller). */
async function insert(db: Catalog, entry: FleetHost, due: DueSlot): Promise<boolean> {
  try {
    await db.job.create({
      data: {
        kind: due.schedule.kind,
        hostId: entry.host.id,
        policyId: entry.policy?.governing.id ?? null,
        scheduledFor: due.scheduledFor,
        schedule: due.schedule.name,
        createdBy: SCHEDULER_ACTOR,
        idempotencyKey: due.idempotencyKey,
        params: due.schedule.params as unknown as Prisma.InputJsonObject,
      },
    });
    await supersede(db, entry.host.id, due);
    return true;
  } catch (err) {
    if (isUniqueViolation(err)) return false;
    throw err;
  }
}

/**
 * Creates the jobs owed now. `ensured` remembers the keys this process has
 * already written, so a tick costs no query per schedule until a new slot.
 */
export async function createDueJobs(
  db: Catalog,
  hosts: Iterable<FleetHost>,
  now: Date,
  ensured: Map<string, string>,
): Promise<number> {
  let created = 0;
  for (const entry of hosts) {
    for (const due of dueSlots(entry, now)) {
      const memo = `${entry.host.id}/${due.schedule.name}`;
      if (ensured.get(memo) === due.idempotencyKey) continue;
      if (await insert(db, entry, due)) created++;
      ensured.set(memo, due.idempotencyKey);
    }
  }
  return created;
}
