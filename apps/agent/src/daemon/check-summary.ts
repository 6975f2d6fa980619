import type { CheckReport } from "@pwdr/repo";

/** What a check run reports, for the journal and the controller alike. */
export interface CheckSummary {
  details: {
    snapshotsChecked: number;
    packsRead: number;
    blobsChecked: number;
    damagedSnapshots: CheckReport["damagedSnapshots"];
    warnings: number;
  };
  /** Set when the check found errors: the first few, for people. */
  failure?: string;
}

export function summarizeCheck(report: CheckReport): CheckSummary {
  const details = {
    snapshotsChecked: report.snapshotsChecked,
    packsRead: report.packsRead,
    blobsChecked: report.blobsChecked,
    damagedSnapshots: report.damagedSnapshots,
    warnings: report.warnings.length,
  };
  if (report.errors.length === 0) return { details };
  const first = report.errors.slice(0, 3).map((e) => e.message);
  return { details, failure: `check found ${report.errors.length} errors: ${first.join("; ")}` };
}
