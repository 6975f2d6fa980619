import { get } from "../api";
import { Badge, ErrorBox, Loading, Section } from "../components";
import { bytes, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import type { RecoveryPointDetail } from "../types";

export function RecoveryPointView({ id }: { id: string }) {
  const { data: point, error } = useLoad(() => get<RecoveryPointDetail>(`/recovery-points/${id}`), [id]);
  if (!point) return error ? <ErrorBox error={error} /> : <Loading what="the recovery point" />;
  return (
    <>
      <h1>
        Recovery point <Badge state={point.status} />
      </h1>
      <p>
        <code>{point.id}</code> of <a href={link("hosts", point.hostId)}>{point.hostName}</a>, taken{" "}
        {time(point.time)}
      </p>
      <Section title="Snapshots">
        <table class="stack" id="snapshots">
          <thead>
            <tr>
              <th>Source</th>
              <th>Status</th>
              <th>Size</th>
              <th>Files</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {point.snapshots.map((s) => (
              <tr key={s.id} data-source={s.sourceName}>
                <td data-label="Source">
                  {s.sourceName} <small class="muted">({s.sourceKind})</small>
                </td>
                <td data-label="Status">
                  <Badge state={s.status} /> {s.error && <span class="reason">{s.error}</span>}
                </td>
                <td data-label="Size">{bytes(s.sizeBytes)}</td>
                <td data-label="Files">{s.fileCount}</td>
                <td>
                  {s.status !== "failed" && (
                    <a href={`${link("snapshots", s.id)}?path=/&point=${encodeURIComponent(point.id)}`}>
                      Browse files
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </>
  );
}
