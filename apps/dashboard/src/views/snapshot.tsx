import { useState } from "preact/hooks";
import { get, query } from "../api";
import { ErrorBox, Loading, Section } from "../components";
import { bytes, time } from "../format";
import { useLoad } from "../hooks";
import { link } from "../router";
import { useCan } from "../session";
import type { RecoveryPointDetail, TreeListing } from "../types";
import { SnapshotRestore } from "./snapshot-restore";

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

/** One directory of a snapshot; `pointId` names its recovery point (for the restore and the header). */
export function SnapshotView({ id, path, pointId }: { id: string; path: string; pointId: string }) {
  const canOperate = useCan("operator");
  const tree = useLoad(() => get<TreeListing>(`/snapshots/${id}/tree${query({ path })}`), [id, path]);
  const point = useLoad(
    () => (pointId ? get<RecoveryPointDetail>(`/recovery-points/${pointId}`) : Promise.resolve(undefined)),
    [pointId],
  );
  const snapshot = point.data?.snapshots.find((s) => s.id === id);
  // The file or directory to restore; null: the whole source.
  const [selected, setSelected] = useState<string | null>(null);
  const canPick = canOperate && (snapshot?.sourceKind === "files" || snapshot?.sourceKind === "config");
  const select = (path: string) => {
    setSelected(path);
    document.getElementById("restore-form")?.scrollIntoView({ block: "nearest" });
  };
  const shownPath = tree.data?.path ?? path;
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
        <Breadcrumbs id={id} path={shownPath} point={pointId} />
        {canPick && shownPath !== "/" && (
          <button type="button" class="small" id="select-directory" onClick={() => select(shownPath)}>
            Select this directory to restore
          </button>
        )}
        <ErrorBox error={tree.error} />
        {!tree.data && !tree.error && <Loading what="the directory" />}
        {tree.data && (
          <table class="stack" id="tree">
            <thead>
              <tr>
                <th>Name</th>
                <th>Size</th>
                <th>Modified</th>
                {canPick && <th>Restore</th>}
              </tr>
            </thead>
            <tbody>
              {tree.data.entries.map((e) => (
                <tr key={e.path} data-type={e.type} class={e.path === selected ? "selected" : undefined}>
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
                  {canPick && (
                    <td data-label="Restore">
                      <button
                        type="button"
                        class="small"
                        data-select={e.path}
                        disabled={e.path === selected}
                        onClick={() => select(e.path)}
                      >
                        {e.path === selected ? "Selected" : "Select"}
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {tree.data?.truncated && <p class="muted">Only the first entries are shown.</p>}
      </Section>
      {canOperate && point.data && snapshot && (
        <Section title="Restore">
          <SnapshotRestore
            hostId={point.data.hostId}
            pointId={point.data.id}
            source={snapshot.sourceName}
            path={selected}
            onWholeSource={() => setSelected(null)}
          />
        </Section>
      )}
    </>
  );
}
