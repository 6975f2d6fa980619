import { get } from "../api";
import { Badge, ErrorBox, Loading, Section } from "../components";
import { ago, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import type { OverviewHost } from "../types";

function CertificateCell({ host }: { host: OverviewHost }) {
  const cert = host.agentCertificate;
  const warnings: string[] = [];
  if (!cert) warnings.push("no valid agent certificate");
  else if (cert.expiringSoon) warnings.push(`agent certificate expires ${ago(cert.notAfter)}`);
  if (host.expiringConfigCertificates > 0)
    warnings.push(`${host.expiringConfigCertificates} config certificate(s) expiring`);
  if (warnings.length === 0)
    return (
      <span class="muted" title={cert ? `until ${time(cert.notAfter)}` : ""}>
        ok
      </span>
    );
  return <span class="flag warn">{warnings.join("; ")}</span>;
}

function HostRow({ host }: { host: OverviewHost }) {
  const breached = host.rpoBreachedSince !== null;
  return (
    <tr class={breached ? "breach" : ""} data-host-id={host.id}>
      <td data-label="Host">
        <a href={link("hosts", host.id)}>{host.name}</a>
        {host.site && <small class="muted"> {host.site}</small>}
      </td>
      <td data-label="State">
        <Badge state={host.state} />
      </td>
      <td data-label="Last seen">{ago(host.lastSeenAt)}</td>
      <td data-label="Last backup">
        {ago(host.lastBackupAt)}
        {breached && (
          <span class="flag bad" title={`since ${time(host.rpoBreachedSince)}`}>
            RPO breached
          </span>
        )}
      </td>
      <td data-label="Sources">
        {host.sources.length === 0 ? (
          <span class="muted">no successful backup</span>
        ) : (
          <ul class="plain">
            {host.sources.map((s) => (
              <li key={s.name}>
                {s.name} <small class="muted">({s.kind})</small> {ago(s.lastSuccessAt)}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td data-label="Certificates">
        <CertificateCell host={host} />
      </td>
    </tr>
  );
}

export function FleetView() {
  const { data, error } = useLoad(() => get<{ hosts: OverviewHost[] }>("/fleet/overview"), [], 5_000);
  const hosts = data?.hosts ?? [];
  const online = hosts.filter((h) => h.state === "online").length;
  const breaches = hosts.filter((h) => h.rpoBreachedSince).length;
  const certs = hosts.filter(
    (h) => !h.agentCertificate || h.agentCertificate.expiringSoon || h.expiringConfigCertificates > 0,
  ).length;
  return (
    <>
      <div class="stats">
        <div class="stat">
          <b>{hosts.length}</b> hosts
        </div>
        <div class="stat">
          <b>{online}</b> online
        </div>
        <div class={`stat ${breaches ? "bad" : ""}`}>
          <b>{breaches}</b> RPO breaches
        </div>
        <div class={`stat ${certs ? "warn" : ""}`}>
          <b>{certs}</b> certificate warnings
        </div>
      </div>
      <Section title="Fleet">
        <ErrorBox error={error} />
        {!data && !error && <Loading what="hosts" />}
        {data && (
          <table class="stack" id="fleet">
            <thead>
              <tr>
                <th>Host</th>
                <th>State</th>
                <th>Last seen</th>
                <th>Last backup</th>
                <th>Last success per source</th>
                <th>Certificates</th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => (
                <HostRow key={h.id} host={h} />
              ))}
            </tbody>
          </table>
        )}
        {data && hosts.length === 0 && <p class="muted">No hosts enrolled yet.</p>}
      </Section>
    </>
  );
}
