import { useState } from "preact/hooks";
import { get, post, query } from "../api";
import { Badge, ErrorBox, Loading, Progress, Section } from "../components";
import { ago, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import { useCan } from "../session";
import type { HostDetail, Job, JobDetail, RecoveryPoint } from "../types";
import { HostDrills } from "./host-drills";

const ACTIVE = new Set(["pending", "dispatched", "running"]);

interface HostJobs {
  jobs: Job[];
  /** Runs and live progress of the jobs still active. */
  active: Map<string, JobDetail>;
}

async function loadJobs(hostId: string): Promise<HostJobs> {
  const { jobs } = await get<{ jobs: Job[] }>(`/jobs${query({ host: hostId, limit: 15 })}`);
  const details = await Promise.all(
    jobs.filter((j) => ACTIVE.has(j.state)).map((j) => get<JobDetail>(`/jobs/${j.id}`)),
  );
  return { jobs, active: new Map(details.map((d) => [d.id, d])) };
}

function JobRow({ job, detail }: { job: Job; detail: JobDetail | undefined }) {
  const progress = detail?.liveProgress;
  return (
    <tr data-job={job.id} data-kind={job.kind} data-state={job.state}>
      <td data-label="Job">
        <a href={link("jobs", job.id)}>{job.kind}</a>
        {job.schedule && <small class="muted"> {job.schedule}</small>}
      </td>
      <td data-label="State">
        <Badge state={job.state} />
        {job.reason && <div class="reason">{job.reason}</div>}
        {progress && <Progress progress={progress} />}
      </td>
      <td data-label="By">{job.createdBy}</td>
      <td data-label="Created">{ago(job.createdAt)}</td>
      <td data-label="Finished">{job.finishedAt ? ago(job.finishedAt) : "—"}</td>
    </tr>
  );
}

function BackupButton({ hostId, onStarted }: { hostId: string; onStarted: () => void }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    try {
      await post("/jobs", { hostId, kind: "backup", spec: {} });
      setError(undefined);
      onStarted();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" onClick={start} disabled={busy} id="backup-now">
        Back up now
      </button>
      <ErrorBox error={error} />
    </>
  );
}

function Facts({ host }: { host: HostDetail }) {
  const facts = host.facts ?? {};
  const sources = (facts.sources as { name?: string; version?: string }[] | undefined) ?? [];
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <Badge state={host.state} /> {host.revokedAt && <span class="flag bad">revoked</span>}
      </dd>
      <dt>Last seen</dt>
      <dd>{ago(host.lastSeenAt)}</dd>
      <dt>Last backup</dt>
      <dd>
        {ago(host.lastBackupAt)}{" "}
        {host.rpoBreachedSince && (
          <span class="flag bad">RPO breached since {time(host.rpoBreachedSince)}</span>
        )}
      </dd>
      <dt>Agent</dt>
      <dd>{host.agentVersion ?? "—"}</dd>
      <dt>Labels</dt>
      <dd>
        {Object.entries(host.labels).map(([k, v]) => (
          <code key={k} class="label">
            {k}={v}
          </code>
        ))}
      </dd>
      <dt>Sources</dt>
      <dd>{sources.map((s) => `${s.name ?? "?"}${s.version ? ` (${s.version})` : ""}`).join(", ") || "—"}</dd>
    </dl>
  );
}

export function HostView({ id }: { id: string }) {
  const canOperate = useCan("operator");
  const host = useLoad(() => get<HostDetail>(`/hosts/${id}`), [id], 5_000);
  const jobs = useLoad(() => loadJobs(id), [id], 1_000);
  const points = useLoad(
    () => get<{ recoveryPoints: RecoveryPoint[] }>(`/recovery-points${query({ host: id, limit: 20 })}`),
    [id],
    5_000,
  );
  return (
    <>
      <h1>{host.data?.name ?? "Host"}</h1>
      <ErrorBox error={host.error} />
      <Section
        title="Host"
        actions={canOperate && <BackupButton hostId={id} onStarted={() => jobs.reload()} />}
      >
        {host.data ? <Facts host={host.data} /> : <Loading what="the host" />}
      </Section>
      <Section title="Jobs">
        <ErrorBox error={jobs.error} />
        {jobs.data ? (
          <table class="stack" id="jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>State</th>
                <th>By</th>
                <th>Created</th>
                <th>Finished</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.jobs.map((j) => (
                <JobRow key={j.id} job={j} detail={jobs.data?.active.get(j.id)} />
              ))}
            </tbody>
          </table>
        ) : (
          <Loading what="jobs" />
        )}
      </Section>
      <Section title="Recovery points">
        <ErrorBox error={points.error} />
        {points.data && (
          <table class="stack" id="points">
            <thead>
              <tr>
                <th>Recovery point</th>
                <th>Time</th>
                <th>Status</th>
                <th>Sources</th>
              </tr>
            </thead>
            <tbody>
              {points.data.recoveryPoints.map((p) => (
                <tr key={p.id}>
                  <td data-label="Point">
                    <a href={link("points", p.id)}>{p.id}</a>
                  </td>
                  <td data-label="Time">{time(p.time)}</td>
                  <td data-label="Status">
                    <Badge state={p.status} />
                  </td>
                  <td data-label="Sources">{p.snapshotCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {points.data?.recoveryPoints.length === 0 && <p class="muted">No recovery points yet.</p>}
      </Section>
      <HostDrills hostId={id} />
    </>
  );
}
