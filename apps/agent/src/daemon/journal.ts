import { appendFile, mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "@pwdr/repo";
import type { JobName } from "../config/agent-config.js";

/** "controller": dispatched by the controller over the session. */
export type RunTrigger = "schedule" | "catch-up" | "manual" | "controller";
export type RunStatus = "running" | "ok" | "partial" | "failed" | "cancelled" | "abandoned";
/** What a run did: the config's job names, plus a restore or a service action the controller asked for. */
export type RecordedJob = JobName | "restore" | "service" | "health" | "command";

/** One run of a job as the journal keeps it: no secrets, only what an operator needs to see. */
export interface RunRecord {
  id: string;
  job: RecordedJob;
  trigger: RunTrigger;
  pid: number;
  startedAt: string;
  finishedAt?: string;
  status: RunStatus;
  durationMs?: number;
  bytes?: number;
  addedBytes?: number;
  recoveryPoint?: string;
  attempts?: number;
  error?: string;
  /** Job-specific results: per-source status, check counts, drill assertions. */
  details?: Record<string, unknown>;
  /** The controller's (or a local schedule's) Job.job_id this run executed. */
  jobId?: string;
  /** Job.attempt of that job: a later attempt (a retry) runs again, the same one is answered from `result`. */
  attempt?: number;
  /** The schedule slot the run was for: `<schedule>@<slot time>`. */
  slotKey?: string;
  /** The JobResult reported for the run (protobuf JSON), answered again when the same job comes back. */
  result?: unknown;
}

/**
 * The local journal of runs: one JSON line per state change, appended and
 * synced, so it survives crashes and can be read while the daemon writes.
 * A run whose process died before it finished reads back as "abandoned".
 */
export class Journal {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, "journal.jsonl");
  }

  async write(record: RunRecord): Promise<void> {
    await mkdir(join(this.path, ".."), { recursive: true, mode: 0o700 });
    await appendFile(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    const handle = await open(this.path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** Every run, oldest first, each in its latest state. */
  async runs(): Promise<RunRecord[]> {
    const text = await readFile(this.path, "utf8").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return "";
      throw err;
    });
    const byId = new Map<string, RunRecord>();
    for (const line of text.split("\n")) {
      const record = parseLine(line);
      if (record) byId.set(record.id, record);
    }
    return [...byId.values()].map(settle).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  async lastRun(
    job: RecordedJob,
    filter: (r: RunRecord) => boolean = () => true,
  ): Promise<RunRecord | undefined> {
    return (await this.runs()).filter((r) => r.job === job && filter(r)).at(-1);
  }
}

/** A torn last line (power cut mid-append) is skipped, not fatal. */
function parseLine(line: string): RunRecord | undefined {
  if (!line.trim()) return undefined;
  try {
    const record = JSON.parse(line) as RunRecord;
    return typeof record.id === "string" && typeof record.job === "string" ? record : undefined;
  } catch {
    return undefined;
  }
}

function settle(record: RunRecord): RunRecord {
  if (record.status !== "running" || processAlive(record.pid)) return record;
  return {
    ...record,
    status: "abandoned",
    error: record.error ?? "the agent stopped before the run finished",
  };
}
