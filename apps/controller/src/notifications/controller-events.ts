// Things that happened in the controller that people may want to hear about.
// The places that notice them publish here; the notifier (and anything else)
// subscribes. Publishing never waits for or fails because of a subscriber.
import type { Logger } from "@pwdr/logging";

export const EVENT_TYPES = [
  "job.failed",
  "job.partial",
  "rpo.breached",
  "rpo.cleared",
  "certificate.expiring",
  "dr.run.started",
  "dr.run.finished",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface HostRef {
  id: string;
  name: string;
}

interface EventBase {
  /**
   * The same for every delivery of one occurrence (e.g. "job.failed/<run id>"):
   * receivers drop repeats by it, since a delivery may be retried.
   */
  id: string;
  at: Date;
}

export interface JobEvent extends EventBase {
  type: "job.failed" | "job.partial";
  host: HostRef;
  job: { id: string; kind: string; attempt: number; createdBy: string };
  runId: string;
  error: { code: string; message: string } | null;
}

export interface RpoEvent extends EventBase {
  type: "rpo.breached" | "rpo.cleared";
  host: HostRef;
  /** The policy's RPO, e.g. "26h". */
  rpo: string | null;
  lastBackupAt: Date | null;
  breachedSince: Date | null;
}

export interface CertificateEvent extends EventBase {
  type: "certificate.expiring";
  host: HostRef;
  serial: string;
  notAfter: Date;
}

export interface DrRunEvent extends EventBase {
  type: "dr.run.started" | "dr.run.finished";
  run: {
    id: string;
    kind: string;
    state: string;
    createdBy: string;
    reason: string | null;
    rtoMs: number | null;
    rpoMs: number | null;
  };
  /** The hosts the run restores or acts on, as its plan names them. */
  hosts: HostRef[];
}

export type ControllerEvent = JobEvent | RpoEvent | CertificateEvent | DrRunEvent;

export type EventListener = (event: ControllerEvent) => void;

/** What a place that notices something needs: a way to say so. */
export interface EventSink {
  publish(event: ControllerEvent): void;
}

export class ControllerEvents implements EventSink {
  readonly #listeners = new Set<EventListener>();

  constructor(private readonly log: Logger) {}

  /** Calls `listener` with every event published from now on; returns the unsubscribe function. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hands the event to every listener; a listener that throws is logged, not propagated. */
  publish(event: ControllerEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error("an event listener failed", {
          event: event.type,
          eventId: event.id,
          error: String(err),
        });
      }
    }
  }
}
