import { get } from "../api";
import { Badge, ErrorBox, Loading, Progress, Section } from "../components";
import { bytes, duration, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import type { JobDetail } from "../types";

const FINISHED = new Set(["succeeded", "partial", "failed", "cancelled", "missed"]);

/** One job: its state, live progress while it runs (polled every second), and each run's outcome. */
export function JobView({ id }: { id: string }) {
  const { data: job, error } = useLoad(() => get<JobDetail>(`/jobs/${id}`), [id], 1_000);
  if (!job) return error ? <ErrorBox error={error} /> : <Loading what="the job" />;
  return (
    <>
      <h1>
        {job.kind} job <Badge state={job.state} />
      </h1>
      <ErrorBox error={error} />
      <Section title="Job">
        {job.liveProgress && <Progress progress={job.liveProgress} />}
        <dl class="facts">
          <dt>Host</dt>
          <dd>
            <a href={link("hosts", job.hostId)}>{job.hostId}</a>
          </dd>
          <dt>Created by</dt>
          <dd>{job.createdBy}</dd>
          <dt>Scheduled for</dt>
          <dd>{time(job.scheduledFor)}</dd>
          <dt>Finished</dt>
          <dd>{FINISHED.has(job.state) ? time(job.finishedAt) : "—"}</dd>
          {job.reason && (
            <>
              <dt>Reason</dt>
              <dd class="reason">{job.reason}</dd>
            </>
          )}
          <dt>Attempt</dt>
          <dd>{job.attempt}</dd>
        </dl>
      </Section>
      <Section title="Runs">
        {job.runs.length === 0 && <p class="muted">Not started on its host yet.</p>}
        <table class="stack" id="runs">
          <tbody>
            {job.runs.map((r) => (
              <tr key={r.id}>
                <td data-label="State">
                  <Badge state={r.state} /> {r.phase && <small class="muted">phase {r.phase}</small>}
                </td>
                <td data-label="Started">{time(r.startedAt)}</td>
                <td data-label="Took">
                  {r.finishedAt ? duration(Date.parse(r.finishedAt) - Date.parse(r.startedAt)) : "running"}
                </td>
                <td data-label="Bytes">
                  {bytes(r.bytesRead)} read, {bytes(r.bytesAdded)} added
                </td>
                <td data-label="Outcome">
                  {r.errorCode && (
                    <span class="reason">
                      {r.errorCode}: {r.errorMessage}
                    </span>
                  )}
                  {r.recoveryPointId && <a href={link("points", r.recoveryPointId)}>{r.recoveryPointId}</a>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}
