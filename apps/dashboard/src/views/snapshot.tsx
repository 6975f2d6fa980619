import { useState } from "preact/hooks";
import { get, post, query } from "../api";
import { ErrorBox, Loading, Section } from "../components";
import { bytes, time } from "../format";
import { useLoad } from "../hooks";
import { link, navigate } from "../router";
import { useCan } from "../session";
import type { Job, RecoveryPointDetail, TreeListing } from "../types";

function browseHref(id: string, path: string, point: string): string {
  return `${link("snapshots", id)}?path=${encodeURIComponent(path)}&point=${encodeURIComponent(point)}`;
}

function Breadcrumbs({ id, path, point }: { id: string; path: string; point: string }) {
  const parts = path.split("/").filter(Boolean);
  return (
    <nav class="crumbs" aria-label="path">
      <a href={browseHref(id, "/", point)}>/</a>
      {parts.map((p, i) => (
        <span key={p + String(i)}>
          <a href={browseHref(id, `/${parts.slice(0, i + 1).join("/")}`, point)}>{p}</a>/
        </span>
      ))}
    </nav>
  );
}

/**
 * Restores the snapshot's source from its recovery point onto the host. The
 * agent's restore job restores whole sources: the browsed path is shown so
 * the operator knows where it will land under the target prefix.
 */
function RestoreForm(props: { hostId: string; pointId: string; source: string; path: string }) {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const prefix = (form.elements.namedItem("targetPrefix") as HTMLInputElement).value.trim();
    const dryRun = (form.elements.namedItem("dryRun") as HTMLInputElement).checked;
    setBusy(true);
    try {
      const job = await post<Job>(`/hosts/${props.hostId}/restore`, {
        recoveryPointId: props.pointId,
        sources: [props.source],
        ...(prefix ? { targetPrefix: prefix } : {}),
        dryRun,
      });
      navigate(link("jobs", job.id));
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit} id="restore-form">
      <p>
        Restores source <b>{props.source}</b> of this recovery point (it holds <code>{props.path}</code>) onto
        its host. Give a target prefix to restore beside the live files instead of over them.
      </p>
      <label>
        Target prefix
        <input name="targetPrefix" placeholder="/var/tmp/pwdr-restore" pattern="/.*" />
      </label>
      <label class="check">
        <input name="dryRun" type="checkbox" checked /> Dry run (only report what would be touched)
      </label>
      <button type="submit" disabled={busy}>
        Restore
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

/** One directory of a snapshot; `pointId` names its recovery point (for the restore and the header). */
export function SnapshotView({ id, path, pointId }: { id: string; path: string; pointId: string }) {
  const canOperate = useCan("operator");
  const tree = useLoad(() => get<TreeListing>(`/snapshots/${id}/tree${query({ path })}`), [id, path]);
  const point = useLoad(
    () => (pointId ? get<RecoveryPointDetail>(`/recovery-points/${pointId}`) : Promise.resolve(undefined)),
    [pointId],
  );
  const snapshot = point.data?.snapshots.find((s) => s.id === id);
  return (
    <>
      <h1>Snapshot files</h1>
      {point.data && (
        <p>
          <b>{snapshot?.sourceName}</b> of <a href={link("points", point.data.id)}>{point.data.id}</a> (
          <a href={link("hosts", point.data.hostId)}>{point.data.hostName}</a>, {time(point.data.time)})
        </p>
      )}
      <Section title="Files">
        <Breadcrumbs id={id} path={tree.data?.path ?? path} point={pointId} />
        <ErrorBox error={tree.error} />
        {!tree.data && !tree.error && <Loading what="the directory" />}
        {tree.data && (
          <table class="stack" id="tree">
            <thead>
              <tr>
                <th>Name</th>
                <th>Size</th>
                <th>Modified</th>
              </tr>
            </thead>
            <tbody>
              {tree.data.entries.map((e) => (
                <tr key={e.path} data-type={e.type}>
                  <td data-label="Name">
                    {e.type === "dir" ? (
                      <a href={browseHref(id, e.path, pointId)}>{e.name}/</a>
                    ) : (
                      <span>
                        {e.name}
                        {e.target !== undefined && <small class="muted"> → {e.target}</small>}
                      </span>
                    )}
                  </td>
                  <td data-label="Size">{e.type === "file" ? bytes(e.size) : e.type}</td>
                  <td data-label="Modified">{time(e.mtime)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tree.data?.truncated && <p class="muted">Only the first entries are shown.</p>}
      </Section>
      {canOperate && point.data && snapshot && (
        <Section title="Restore">
          <RestoreForm
            hostId={point.data.hostId}
            pointId={point.data.id}
            source={snapshot.sourceName}
            path={tree.data?.path ?? path}
          />
        </Section>
      )}
    </>
  );
}
