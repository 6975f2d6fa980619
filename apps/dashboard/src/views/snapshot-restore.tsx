import { useState } from "preact/hooks";
import { get, post } from "../api";
import { Badge, ErrorBox } from "../components";
import { bytes } from "../format";
import { useLoad } from "../hooks";
import { link, navigate } from "../router";
import type { Job, JobDetail } from "../types";

const FINISHED = new Set(["succeeded", "partial", "failed", "cancelled", "missed"]);

/** What the operator asked to restore; a dry run counts only for the same request. */
interface RestoreRequest {
  /** A file or directory of the snapshot; null restores the whole source. */
  path: string | null;
  targetPrefix: string;
}

const sameRequest = (a: RestoreRequest, b: RestoreRequest) =>
  a.path === b.path && a.targetPrefix === b.targetPrefix;

interface PlannedStep {
  kind: string;
  description?: string;
  touches?: string[];
  bytes?: number;
  result?: { files?: number };
}

/** The tree step of a host restore's dry-run report (the run's details), if it has one. */
function treeStep(job: JobDetail): PlannedStep | undefined {
  const steps = (job.runs.at(-1)?.details?.steps ?? []) as PlannedStep[];
  return steps.find((s) => s.kind === "restore-files" || s.kind === "restore-config");
}

/** The dry run's job and what it found: where the selection would land, how much of it. */
function DryRunResult({ job, error }: { job: JobDetail | undefined; error: Error | undefined }) {
  if (!job) return <ErrorBox error={error} />;
  const run = job.runs.at(-1);
  const step = job.state === "succeeded" ? treeStep(job) : undefined;
  return (
    <div class="dry-run" id="restore-dry-result" data-state={job.state}>
      <p>
        Dry run <Badge state={job.state} /> <a href={link("jobs", job.id)}>job</a>
        {!FINISHED.has(job.state) && <span class="muted"> — waiting for the host…</span>}
      </p>
      {run?.errorCode && (
        <p class="reason">
          {run.errorCode}: {run.errorMessage}
        </p>
      )}
      {step && (
        <>
          <p>
            Would restore{" "}
            {step.result?.files !== undefined && (
              <b>
                {step.result.files} {step.result.files === 1 ? "file" : "files"},{" "}
              </b>
            )}
            <b>{bytes(step.bytes ?? 0)}</b> to:
          </p>
          <ul class="touches">
            {(step.touches ?? []).map((t) => (
              <li key={t}>
                <code>{t}</code>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/**
 * Restores a file or directory of the snapshot (or its whole source) onto the
 * recovery point's host, under a target prefix: a dry run first, then the
 * restore itself, enabled only once the dry run of that same request
 * succeeded.
 */
export function SnapshotRestore(props: {
  hostId: string;
  pointId: string;
  source: string;
  path: string | null;
  onWholeSource: () => void;
}) {
  const [targetPrefix, setTargetPrefix] = useState("");
  const [dryRun, setDryRun] = useState<{ jobId: string; request: RestoreRequest } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const request: RestoreRequest = { path: props.path, targetPrefix: targetPrefix.trim() };
  const planned = dryRun && sameRequest(dryRun.request, request) ? dryRun : undefined;
  const [dryRunEnded, setDryRunEnded] = useState(false);
  // Polled every second until the dry run ends.
  const dryJob = useLoad(
    async () => {
      const job = planned ? await get<JobDetail>(`/jobs/${planned.jobId}`) : undefined;
      if (job && FINISHED.has(job.state)) setDryRunEnded(true);
      return job;
    },
    [planned?.jobId],
    planned && !dryRunEnded ? 1_000 : undefined,
  );

  const start = async (dry: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const job = await post<Job>(`/hosts/${props.hostId}/restore`, {
        recoveryPointId: props.pointId,
        sources: [props.source],
        ...(request.path ? { include: [request.path] } : {}),
        ...(request.targetPrefix ? { targetPrefix: request.targetPrefix } : {}),
        dryRun: dry,
      });
      if (dry) {
        setDryRunEnded(false);
        setDryRun({ jobId: job.id, request });
      } else navigate(link("jobs", job.id));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: Event) => {
    event.preventDefault();
    void start(true);
  };
  const confirmed = dryJob.data?.state === "succeeded";
  return (
    <form class="inline-form" onSubmit={submit} id="restore-form">
      <p id="restore-what">
        {props.path ? (
          <>
            Restores only <code>{props.path}</code> of source <b>{props.source}</b>.{" "}
            <button type="button" class="small" onClick={props.onWholeSource}>
              Whole source instead
            </button>
          </>
        ) : (
          <>
            Restores the whole source <b>{props.source}</b> of this recovery point. Pick a file or directory
            above (<b>Select</b>) to restore only it.
          </>
        )}{" "}
        Give a target prefix to restore beside the live files instead of over them.
      </p>
      <label>
        Target prefix
        <input
          name="targetPrefix"
          placeholder="/var/tmp/pwdr-restore"
          pattern="/.*"
          value={targetPrefix}
          onInput={(e) => setTargetPrefix((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" id="restore-dry-run" disabled={busy}>
        Dry run
      </button>
      <button
        type="button"
        class="danger"
        id="restore-confirm"
        disabled={busy || !confirmed}
        title={confirmed ? "" : "Run a dry run of this restore first"}
        onClick={() => void start(false)}
      >
        {request.targetPrefix ? "Restore" : "Restore over the live files"}
      </button>
      {planned && <DryRunResult job={dryJob.data} error={dryJob.error} />}
      <ErrorBox error={error} />
    </form>
  );
}
