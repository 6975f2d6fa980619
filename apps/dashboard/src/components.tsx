import type { ComponentChildren } from "preact";
import { ApiFailure } from "./api";
import { bytes, percent } from "./format";
import type { RunProgress } from "./types";

const TONE: Record<string, string> = {
  online: "good",
  succeeded: "good",
  complete: "good",
  success: "good",
  ok: "good",
  running: "busy",
  dispatched: "busy",
  cancelling: "busy",
  pending: "wait",
  planned: "wait",
  offline: "warn",
  partial: "warn",
  missed: "warn",
  skipped: "mute",
  cancelled: "mute",
  decommissioned: "mute",
  failed: "bad",
  denied: "bad",
  rejected: "bad",
};

/** A state word in its colour, e.g. running (blue), failed (red). */
export function Badge({ state }: { state: string }) {
  return (
    <span class={`badge ${TONE[state] ?? "mute"}`} data-state={state}>
      {state}
    </span>
  );
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const details = error instanceof ApiFailure ? error.details : [];
  return (
    <div class="error" role="alert">
      <strong>{error instanceof ApiFailure ? `${error.code}: ` : ""}</strong>
      {error.message}
      {details.length > 0 && (
        <ul>
          {details.map((d) => (
            <li key={d.path + d.message}>
              <code>{d.path}</code> {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}

export function Section(props: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions && <div class="actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** A progress bar with the phase and numbers a running job reports. */
export function Progress({ progress }: { progress: RunProgress }) {
  const pct =
    percent(progress.bytesDone, progress.bytesTotal) ?? percent(progress.itemsDone, progress.itemsTotal);
  return (
    <div class="progress" data-phase={progress.phase}>
      <div class="bar">
        <span class={pct === undefined ? "indeterminate" : ""} style={{ width: `${pct ?? 100}%` }} />
      </div>
      <div class="progress-text">
        <span class="phase">{progress.phase}</span> {bytes(progress.bytesDone)}
        {progress.bytesTotal > 0 && ` of ${bytes(progress.bytesTotal)}`}
        {pct !== undefined && ` (${pct}%)`}
        {progress.currentItem && <span class="item"> · {progress.currentItem}</span>}
      </div>
    </div>
  );
}
