import { useState } from "preact/hooks";
import { ApiFailure, api, get } from "../api";
import { ErrorBox, Loading, Section } from "../components";
import { ago } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import { useCan } from "../session";
import type { Policy } from "../types";

/** Fields edited as JSON: objects whose shape the API checks. */
const JSON_FIELDS = ["selector", "sources", "retention", "verification", "scheduling"] as const;
type JsonField = (typeof JSON_FIELDS)[number];

function pretty(value: unknown): string {
  return value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
}

/** Field name of an API problem path such as "body/scheduling.window" or "body/schedule". */
function fieldOf(path: string): string {
  return (path.replace(/^body\/?/, "").split(/[./]/)[0] ?? "") || "policy";
}

function PolicyForm({ policy, onSaved }: { policy: Policy; onSaved: () => void }) {
  const canEdit = useCan("admin");
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [error, setError] = useState<Error | undefined>(undefined);
  const [saved, setSaved] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
    const local: Record<string, string[]> = {};
    const patch: Record<string, unknown> = {
      schedule: field("schedule").value.trim() || null,
      enabled: field("enabled").checked,
    };
    for (const name of JSON_FIELDS) {
      const text = field(name).value.trim();
      try {
        patch[name] = text ? JSON.parse(text) : name === "selector" ? {} : null;
      } catch (err) {
        local[name] = [`not JSON: ${(err as Error).message}`];
      }
    }
    setSaved(false);
    setError(undefined);
    setProblems(local);
    if (Object.keys(local).length > 0) return;
    try {
      await api("PATCH", `/policies/${policy.id}`, patch);
      setSaved(true);
      onSaved();
    } catch (err) {
      setError(err as Error);
      const byField: Record<string, string[]> = {};
      for (const d of err instanceof ApiFailure ? err.details : []) {
        const key = fieldOf(d.path);
        byField[key] = [...(byField[key] ?? []), `${d.path.replace(/^body\//, "")}: ${d.message}`];
      }
      setProblems(byField);
    }
  };

  const Problems = ({ name }: { name: string }) =>
    problems[name] ? (
      <ul class="field-errors" data-field={name}>
        {problems[name].map((p) => (
          <li key={p}>{p}</li>
        ))}
      </ul>
    ) : null;

  return (
    <form class="policy-form" onSubmit={submit} id="policy-form" key={policy.id + policy.updatedAt}>
      <label>
        Backup schedule (cron)
        <input name="schedule" defaultValue={policy.schedule ?? ""} disabled={!canEdit} />
        <Problems name="schedule" />
      </label>
      <label class="check">
        <input name="enabled" type="checkbox" defaultChecked={policy.enabled} disabled={!canEdit} /> Enabled
      </label>
      {JSON_FIELDS.map((name: JsonField) => (
        <label key={name}>
          {name} <small class="muted">(JSON; empty inherits from the parent)</small>
          <textarea name={name} rows={name === "selector" ? 3 : 4} disabled={!canEdit} spellcheck={false}>
            {pretty(policy[name])}
          </textarea>
          <Problems name={name} />
        </label>
      ))}
      {canEdit && <button type="submit">Save</button>}
      {saved && <span class="flag good">saved</span>}
      <ErrorBox error={error} />
    </form>
  );
}

export function PoliciesView({ selected }: { selected: string | undefined }) {
  const { data, error, reload } = useLoad(() => get<{ policies: Policy[] }>("/policies"), []);
  const policies = data?.policies ?? [];
  const current = policies.find((p) => p.id === selected);
  const nameOf = (id: string | null) => policies.find((p) => p.id === id)?.name ?? "—";
  return (
    <>
      <h1>Policies</h1>
      <ErrorBox error={error} />
      <Section title="All policies">
        {!data && <Loading what="policies" />}
        <table class="stack" id="policies">
          <thead>
            <tr>
              <th>Name</th>
              <th>Parent</th>
              <th>Selector</th>
              <th>Schedule</th>
              <th>Changed</th>
            </tr>
          </thead>
          <tbody>
            {policies.map((p) => (
              <tr key={p.id} class={p.id === selected ? "selected" : ""}>
                <td data-label="Name">
                  <a href={link("policies", p.id)}>{p.name}</a>
                  {!p.enabled && <small class="muted"> (disabled)</small>}
                </td>
                <td data-label="Parent">{nameOf(p.parentId)}</td>
                <td data-label="Selector">
                  <code>{JSON.stringify(p.selector)}</code>
                </td>
                <td data-label="Schedule">{p.schedule ?? <span class="muted">inherited</span>}</td>
                <td data-label="Changed">{ago(p.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data && policies.length === 0 && <p class="muted">No policies yet.</p>}
      </Section>
      {current && (
        <Section title={`Policy ${current.name}`}>
          <PolicyForm policy={current} onSaved={reload} />
        </Section>
      )}
    </>
  );
}
