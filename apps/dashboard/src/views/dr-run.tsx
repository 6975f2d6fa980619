import { useState } from "preact/hooks";
import { api, get } from "../api";
import { Badge, ErrorBox, Loading, Progress, Section } from "../components";
import { duration, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import { useCan } from "../session";
import type { DrRunDetail, DrStep } from "../types";

const ACTIVE = new Set(["planned", "running", "cancelling"]);

function StepRow({ step, hostName }: { step: DrStep; hostName: (id: string | null) => string }) {
  return (
    <li class={`step ${step.state}`} data-step={step.name} data-state={step.state}>
      <div class="step-head">
        <Badge state={step.state} /> <b>{step.name}</b>{" "}
        <small class="muted">
          on {hostName(step.hostId)}
          {step.attempt > 1 && `, attempt ${step.attempt} of ${step.maxAttempts}`}
          {step.durationMs !== null && `, ${duration(step.durationMs)}`}
        </small>
        {step.jobId && (
          <a class="small" href={link("jobs", step.jobId)}>
            {" "}
            job
          </a>
        )}
      </div>
      {step.liveProgress && <Progress progress={step.liveProgress} />}
      {step.error && <div class="reason">{step.error}</div>}
    </li>
  );
}

/** The final report: how long the recovery took (RTO) and how much data it lost (RPO). */
function Report({ run }: { run: DrRunDetail }) {
  return (
    <div class={`report ${run.state}`} id="dr-report">
      <div class="stat">
        <small>RTO</small>
        <b>{run.rtoMs !== null ? duration(run.rtoMs) : "—"}</b>
      </div>
      <div class="stat">
        <small>RPO</small>
        <b>{run.rpoMs !== null ? duration(run.rpoMs) : "—"}</b>
      </div>
      <div class="stat">
        <small>Started</small>
        <b>{time(run.startedAt)}</b>
      </div>
      <div class="stat">
        <small>Finished</small>
        <b>{time(run.finishedAt)}</b>
      </div>
    </div>
  );
}

/** A DR run step by step, polled every second while it is active. */
export function DrRunView({ id }: { id: string }) {
  const canOperate = useCan("operator");
  const [cancelError, setCancelError] = useState<Error | undefined>(undefined);
  const { data: run, error, reload } = useLoad(() => get<DrRunDetail>(`/dr/runs/${id}`), [id], 1_000);
  if (!run) return error ? <ErrorBox error={error} /> : <Loading what="the DR run" />;
  const hosts = new Map<string, string>();
  for (const h of [run.plan.failedHost, run.plan.replacementHost, ...(run.plan.hosts ?? [])])
    if (h) hosts.set(h.id, h.name);
  const hostName = (hostId: string | null) =>
    hostId === null ? "the controller" : (hosts.get(hostId) ?? hostId);
  const cancel = async () => {
    try {
      await api("POST", `/dr/runs/${id}/cancel`);
      reload();
    } catch (err) {
      setCancelError(err as Error);
    }
  };
  return (
    <>
      <h1>
        DR run <Badge state={run.state} />
      </h1>
      <p>
        {run.plan.failedHost && (
          <>
            <b>{run.plan.failedHost.name}</b> onto <b>{run.plan.replacementHost?.name}</b>,{" "}
          </>
        )}
        started by {run.createdBy}
        {run.reason && <span class="reason"> — {run.reason}</span>}
      </p>
      <ErrorBox error={error ?? cancelError} />
      <Report run={run} />
      <Section
        title="Steps"
        actions={
          canOperate &&
          ACTIVE.has(run.state) && (
            <button type="button" class="danger" onClick={cancel}>
              Cancel run
            </button>
          )
        }
      >
        <ol class="steps" id="dr-steps">
          {run.steps.map((s) => (
            <StepRow key={s.id} step={s} hostName={hostName} />
          ))}
        </ol>
      </Section>
    </>
  );
}
