import { useState } from "preact/hooks";
import { get, post } from "../api";
import { Badge, ErrorBox, Loading, Section } from "../components";
import { ago, duration } from "../format";
import { useLoad } from "../hooks";
import { link, navigate } from "../router";
import { useCan } from "../session";
import type { DrPlan, DrRun, OverviewHost } from "../types";
import { PlanDetails } from "./dr-plan";

interface Request {
  failedHostId: string;
  replacementHostId: string;
  recoveryPointId?: string;
}

/** Plan first (dry run), then start only after the operator typed the failed host's name. */
function HostSelect({ label, name, hosts }: { label: string; name: string; hosts: OverviewHost[] }) {
  return (
    <label>
      {label}
      <select name={name} required>
        {hosts.map((h) => (
          <option key={h.id} value={h.id}>
            {h.name} ({h.state})
          </option>
        ))}
      </select>
    </label>
  );
}

function NewRestore({ hosts }: { hosts: OverviewHost[] }) {
  const [request, setRequest] = useState<Request | undefined>(undefined);
  const [plan, setPlan] = useState<DrPlan | undefined>(undefined);
  const [confirmText, setConfirmText] = useState("");
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const nameOf = (id: string | null) =>
    id === null ? "the controller" : (hosts.find((h) => h.id === id)?.name ?? id);

  const planIt = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value.trim();
    const next: Request = {
      failedHostId: value("failed"),
      replacementHostId: value("replacement"),
      ...(value("point") ? { recoveryPointId: value("point") } : {}),
    };
    setBusy(true);
    setPlan(undefined);
    setConfirmText("");
    try {
      setPlan(await post<DrPlan>("/dr/restores", { ...next, dryRun: true }));
      setRequest(next);
      setError(undefined);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const start = async () => {
    if (!request) return;
    setBusy(true);
    try {
      const run = await post<DrRun>("/dr/restores", { ...request, dryRun: false });
      navigate(link("dr", "runs", run.id));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const failedName = plan?.failedHost?.name ?? "";
  return (
    <Section title="Central restore of a failed host">
      <form class="inline-form" onSubmit={planIt} id="dr-form">
        <HostSelect label="Failed host" name="failed" hosts={hosts} />
        <HostSelect label="Replacement host" name="replacement" hosts={hosts} />
        <label>
          Recovery point <small class="muted">(newest complete when empty)</small>
          <input name="point" placeholder="20261126T021500Z-…" />
        </label>
        <button type="submit" disabled={busy} id="dr-plan-button">
          Plan (dry run)
        </button>
      </form>
      <ErrorBox error={error} />
      {plan && <PlanDetails plan={plan} hostName={nameOf} />}
      {plan?.assessment.ok && (
        <div class="confirm" id="dr-confirm">
          <p>
            Starting stops services on <b>{plan.replacementHost?.name}</b>, restores onto it and makes it{" "}
            <b>{failedName}</b>. Type <code>{failedName}</code> to confirm.
          </p>
          <input
            name="confirm"
            value={confirmText}
            onInput={(e) => setConfirmText((e.currentTarget as HTMLInputElement).value)}
            autocomplete="off"
          />
          <button
            type="button"
            class="danger"
            disabled={busy || confirmText !== failedName}
            onClick={start}
            id="dr-start"
          >
            Start restore
          </button>
        </div>
      )}
    </Section>
  );
}

export function DrView() {
  const canOperate = useCan("operator");
  const runs = useLoad(() => get<{ runs: DrRun[] }>("/dr/runs?limit=20"), [], 3_000);
  const hosts = useLoad(() => get<{ hosts: OverviewHost[] }>("/fleet/overview"), []);
  return (
    <>
      <h1>Disaster recovery</h1>
      {canOperate && hosts.data && <NewRestore hosts={hosts.data.hosts} />}
      <Section title="Runs">
        <ErrorBox error={runs.error} />
        {!runs.data && <Loading what="DR runs" />}
        {runs.data && (
          <table class="stack" id="dr-runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>State</th>
                <th>Started</th>
                <th>RTO</th>
                <th>RPO</th>
              </tr>
            </thead>
            <tbody>
              {runs.data.runs.map((r) => (
                <tr key={r.id}>
                  <td data-label="Run">
                    <a href={link("dr", "runs", r.id)}>{r.kind}</a> <small class="muted">{r.createdBy}</small>
                  </td>
                  <td data-label="State">
                    <Badge state={r.state} />
                  </td>
                  <td data-label="Started">{ago(r.startedAt)}</td>
                  <td data-label="RTO">{r.rtoMs !== null ? duration(r.rtoMs) : "—"}</td>
                  <td data-label="RPO">{r.rpoMs !== null ? duration(r.rpoMs) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {runs.data?.runs.length === 0 && <p class="muted">No DR runs yet.</p>}
      </Section>
    </>
  );
}
