import { bytes, duration, time } from "../format";
import type { DrPlan } from "../types";

/** The dry-run plan: the point and its RPO, what is restored where, the estimate, the assessment and the steps. */
export function PlanDetails({ plan, hostName }: { plan: DrPlan; hostName: (id: string | null) => string }) {
  return (
    <div class="plan" id="dr-plan">
      {plan.recoveryPoint && (
        <p>
          Recovery point <code>{plan.recoveryPoint.id}</code> from {time(plan.recoveryPoint.time)}
          {plan.rpoMs !== undefined && (
            <>
              {" "}
              — data loss (RPO) <b>{duration(plan.rpoMs)}</b>
            </>
          )}
          {plan.estimate && (
            <>
              , estimated restore time <b>{duration(plan.estimate.ms)}</b>{" "}
              <small class="muted">({plan.estimate.note})</small>
            </>
          )}
        </p>
      )}
      {plan.restores && plan.restores.length > 0 && (
        <table class="stack">
          <thead>
            <tr>
              <th>Source</th>
              <th>Kind</th>
              <th>Size</th>
              <th>Step</th>
            </tr>
          </thead>
          <tbody>
            {plan.restores.map((r) => (
              <tr key={r.source}>
                <td data-label="Source">{r.source}</td>
                <td data-label="Kind">{r.kind}</td>
                <td data-label="Size">
                  {bytes(r.sizeBytes)} <small class="muted">{r.fileCount} files</small>
                </td>
                <td data-label="Step">{r.step}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>
        Assessment:{" "}
        {plan.assessment.ok ? <span class="flag good">ready</span> : <span class="flag bad">refused</span>}
      </h3>
      <ul class="checks" id="dr-assessment">
        {plan.assessment.checks.map((c) => (
          <li key={c.name} class={c.ok ? "ok" : "not-ok"}>
            {c.ok ? "✓" : "✗"} <b>{c.name}</b>: {c.detail}
          </li>
        ))}
      </ul>
      <h3>Steps</h3>
      <ol class="steps">
        {plan.steps.map((s) => (
          <li key={s.position}>
            <b>{s.name}</b> <small class="muted">on {hostName(s.hostId)}</small>
            <div class="muted small">
              {s.description}; time-out {duration(s.timeoutMs)}, {s.maxAttempts} attempt(s), on failure{" "}
              {s.onFailure}
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}
