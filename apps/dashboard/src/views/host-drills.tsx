import { get, query } from "../api";
import { Badge, ErrorBox, Section } from "../components";
import { duration, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import type { DrillHistory } from "../types";

const rto = (ms: number | null) => (ms === null ? "—" : duration(ms));

/** The host's fleet drills (GET /dr/drills) and the trend of their RTO. */
export function HostDrills({ hostId }: { hostId: string }) {
  const history = useLoad(
    () => get<DrillHistory>(`/dr/drills${query({ host: hostId, limit: 10 })}`),
    [hostId],
    10_000,
  );
  const trend = history.data?.trend;
  return (
    <Section title="Fleet drills">
      <ErrorBox error={history.error} />
      {trend && trend.drills > 0 && (
        <p id="drill-trend">
          {trend.succeeded}/{trend.drills} drills succeeded; RTO last {rto(trend.lastRtoMs)}, median{" "}
          {rto(trend.medianRtoMs)}; recent against earlier: <strong>{trend.direction}</strong>
        </p>
      )}
      {history.data && history.data.drills.length > 0 && (
        <table class="stack" id="drills">
          <thead>
            <tr>
              <th>Started</th>
              <th>Mode</th>
              <th>Onto</th>
              <th>State</th>
              <th>RTO</th>
            </tr>
          </thead>
          <tbody>
            {[...history.data.drills].reverse().map((d) => (
              <tr key={d.id}>
                <td data-label="Started">
                  <a href={link("dr", "runs", d.id)}>{d.startedAt ? time(d.startedAt) : "—"}</a>
                </td>
                <td data-label="Mode">{d.mode}</td>
                <td data-label="Onto">{d.targetHost?.name ?? "—"}</td>
                <td data-label="State" title={d.reason ?? ""}>
                  <Badge state={d.state} />
                </td>
                <td data-label="RTO">{rto(d.rtoMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {history.data?.drills.length === 0 && (
        <p class="muted">
          No fleet drills of this host yet: set verification.fleetDrillSchedule and fleetDrillHost in its
          policy, or run <code>pwdr-controller api dr drill</code>.
        </p>
      )}
    </Section>
  );
}
