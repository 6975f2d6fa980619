import type { HostRestoreReport } from "@pwdr/host";
import type { RestoreSpec } from "@pwdr/protocol";
import { hostDefinitionOf } from "../config/load-agent-config.js";
import { failed, type JobOutcome } from "./job-outcome.js";
import { type Run, withRepository } from "./job-run.js";

/**
 * Restores a recovery point into this host's config. With
 * `spec.repository` (a DR replacement) the point is the failed host's, read
 * from its repository on the controller, and every source goes where this
 * host's config puts a source of that name and kind.
 *
 * The services are stopped and started, and the health check run, only with
 * `manageServices`: a DR plan restores with them down and checks health in
 * steps of its own. A host restore runs to its end once it started: stopping
 * between steps would leave the application half restored.
 *
 * With `spec.include`, only those paths of the one configuration or data
 * source named come back (the dashboard's snapshot browser); the restorer
 * keeps them inside the target, and a path the snapshot lacks fails the job
 * before anything is touched.
 */
export async function restoreJob(spec: RestoreSpec, run: Run): Promise<JobOutcome> {
  if (!spec.recoveryPointId) {
    return failed("invalid_argument", 'the restore job names no recovery point (an id, or "latest")');
  }
  const { restoreHost } = await import("@pwdr/host");
  const { services, health, ...definition } = hostDefinitionOf(run.config);
  const managed = spec.manageServices
    ? { ...(services ? { services } : {}), ...(health ? { health } : {}) }
    : {};
  let stepsDone = 0;
  const report = await withRepository(
    run,
    (repo) =>
      restoreHost(repo, {
        recoveryPoint: spec.recoveryPointId,
        target: { ...definition, ...managed },
        only: spec.sources,
        include: spec.include,
        replacement: spec.repository !== "",
        ...(spec.targetPrefix ? { targetPrefix: spec.targetPrefix } : {}),
        dryRun: spec.dryRun,
        onStep: (s) => {
          if (s.status === "done") stepsDone++;
          run.ctx.onProgress({
            phase: s.kind,
            bytesDone: 0,
            itemsDone: stepsDone,
            ...(s.source ? { item: s.source } : {}),
          });
        },
        onProgress: (p) =>
          run.ctx.onProgress({
            phase: p.source ?? p.phase,
            bytesDone: p.bytesDone,
            ...(p.item ? { item: p.item } : {}),
          }),
      }),
    spec.repository,
  );
  return restoreOutcome(report, spec.repository);
}

function restoreOutcome(report: HostRestoreReport, repository: string): JobOutcome {
  const bytes = (done: boolean) =>
    report.steps.reduce((n, s) => n + (!done || s.status === "done" ? (s.bytes ?? 0) : 0), 0);
  const details = {
    ...report,
    ...(repository ? { repository } : {}),
    ...(report.dryRun ? { bytesTotal: bytes(false) } : {}),
  };
  if (report.status !== "failed") return { state: "succeeded", bytesRead: bytes(true), details };
  const step = report.steps.find((s) => s.status === "failed");
  const code = step?.error?.code ?? "source_failed";
  return {
    state: "failed",
    error: { code, message: report.failure ?? "the host restore failed", retryable: false },
    details,
  };
}
