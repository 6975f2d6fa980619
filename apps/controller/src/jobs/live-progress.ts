/** A run's latest progress report, as the API shows it. */
export interface RunProgress {
  runId: string;
  jobId: string;
  phase: string;
  bytesDone: number;
  bytesTotal: number;
  itemsDone: number;
  itemsTotal: number;
  currentItem: string;
  /** When the agent took the measurement (ISO 8601). */
  at: string;
}

// Keyed by host too: a report only ever shows on a job of the host that sent it.
const keyOf = (hostId: string, jobId: string) => `${hostId}\0${jobId}`;

/** How often a run's progress is written to the catalog; live views read memory. */
export const PROGRESS_WRITE_INTERVAL_MS = 1_000;

interface Entry {
  progress: RunProgress;
  writtenAt: number;
}

/**
 * The latest progress of every run this controller hears about. Agents send
 * several reports a second; the catalog gets at most one per run per
 * PROGRESS_WRITE_INTERVAL_MS, so a thousand busy agents do not turn into a
 * thousand writes a second, while the API still shows the newest report.
 */
export class LiveProgress {
  readonly #byJob = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Keeps the report; true when it is due to be written to the catalog. */
  update(hostId: string, progress: RunProgress): boolean {
    const key = keyOf(hostId, progress.jobId);
    const previous = this.#byJob.get(key);
    const now = this.now();
    const due =
      !previous ||
      previous.progress.runId !== progress.runId ||
      now - previous.writtenAt >= PROGRESS_WRITE_INTERVAL_MS;
    this.#byJob.set(key, { progress, writtenAt: due ? now : (previous?.writtenAt ?? now) });
    return due;
  }

  of(hostId: string, jobId: string): RunProgress | undefined {
    return this.#byJob.get(keyOf(hostId, jobId))?.progress;
  }

  /** Called when the job's result is in: the catalog row is then final. */
  finish(hostId: string, jobId: string): void {
    this.#byJob.delete(keyOf(hostId, jobId));
  }
}
