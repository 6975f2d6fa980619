import { useState } from "preact/hooks";
import { get, query } from "../api";
import { Badge, ErrorBox, Loading, Section } from "../components";
import { time } from "../format";
import { useLoad } from "../hooks";
import type { AuditEvent } from "../types";

const PAGE = 50;

/** The audit log, newest first, fifty at a time, optionally one action only. */
export function AuditView() {
  const [before, setBefore] = useState<number[]>([]);
  const [action, setAction] = useState("");
  const cursor = before.at(-1);
  const { data, error } = useLoad(
    () =>
      get<{ events: AuditEvent[] }>(
        `/audit-events${query({ limit: PAGE, before: cursor, action: action || undefined })}`,
      ),
    [cursor, action],
  );
  const events = data?.events ?? [];
  return (
    <>
      <h1>Audit log</h1>
      <Section
        title="Events"
        actions={
          <input
            placeholder="action, e.g. job.create"
            value={action}
            onChange={(e) => {
              setBefore([]);
              setAction((e.currentTarget as HTMLInputElement).value.trim());
            }}
          />
        }
      >
        <ErrorBox error={error} />
        {!data && !error && <Loading what="events" />}
        <table class="stack" id="audit">
          <thead>
            <tr>
              <th>Time</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Target</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id}>
                <td data-label="Time">{time(e.at)}</td>
                <td data-label="Actor">{e.actor}</td>
                <td data-label="Action">
                  <code>{e.action}</code>
                </td>
                <td data-label="Target">{e.target ?? "—"}</td>
                <td data-label="Outcome">
                  {typeof e.details?.outcome === "string" ? <Badge state={e.details.outcome} /> : "—"}
                  {typeof e.details?.errorCode === "string" && <small> {e.details.errorCode}</small>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="pager">
          <button type="button" disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            disabled={events.length < PAGE}
            onClick={() => setBefore([...before, events.at(-1)?.id ?? 0])}
          >
            Older
          </button>
        </div>
      </Section>
    </>
  );
}
