import type { Catalog, RecoveryPoint } from "@pwdr/catalog";
import { DrNotFoundError, DrPlanError } from "./dr-errors.js";

export interface PointChoice {
  /** A recovery point of the failed host, by id. */
  recoveryPointId?: string | undefined;
  /** The newest complete point taken at or before this time. */
  at?: Date | undefined;
}

/**
 * The failed host's recovery point to restore: the one named, else the newest
 * complete one (at or before `at` when given). A failed point holds no data.
 */
export async function chooseRecoveryPoint(
  db: Catalog,
  failedHostId: string,
  choice: PointChoice,
): Promise<RecoveryPoint> {
  if (choice.recoveryPointId) {
    const point = await db.recoveryPoint.findUnique({ where: { id: choice.recoveryPointId } });
    if (!point) throw new DrNotFoundError("recovery point", choice.recoveryPointId);
    if (point.hostId !== failedHostId) {
      throw new DrPlanError(
        `recovery point ${point.id} belongs to host ${point.hostId}, not to the failed host ${failedHostId}`,
        "unusable-point",
      );
    }
    if (point.status === "failed")
      throw new DrPlanError(`recovery point ${point.id} failed and holds no data`, "unusable-point");
    return point;
  }
  const point = await db.recoveryPoint.findFirst({
    where: { hostId: failedHostId, status: "complete", ...(choice.at ? { time: { lte: choice.at } } : {}) },
    orderBy: { time: "desc" },
  });
  if (point) return point;
  const when = choice.at ? ` at or before ${choice.at.toISOString()}` : "";
  throw new DrPlanError(
    `host ${failedHostId} has no complete recovery point${when} to restore`,
    "unusable-point",
  );
}
