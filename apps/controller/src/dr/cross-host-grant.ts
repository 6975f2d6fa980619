// Who may read another host's repository: only a DR replacement, only while
// its run is active (the DR contract). Asked on every storage request.
import type { Catalog } from "@pwdr/catalog";
import { ACTIVE_RUN_STATES } from "./assessment.js";

/**
 * True while a running (or cancelling) DR run restores `repository` (a host
 * id) onto `callerHostId`: a host restore with that failed host and that
 * replacement, or a plan step on the caller that names that repository.
 */
export async function drReadGrant(db: Catalog, callerHostId: string, repository: string): Promise<boolean> {
  if (!repository || callerHostId === repository) return false;
  const run = await db.drRun.findFirst({
    where: { state: { in: ACTIVE_RUN_STATES }, replacementHostId: callerHostId, failedHostId: repository },
    select: { id: true },
  });
  if (run) return true;
  const steps = await db.drStep.findMany({
    where: { hostId: callerHostId, run: { kind: "plan", state: { in: ACTIVE_RUN_STATES } } },
    select: { params: true },
  });
  return steps.some((s) => (s.params as { repository?: unknown } | null)?.repository === repository);
}
