import type { Static } from "typebox";
import type { JobDetail, RunProgressView } from "../api/schemas/job.js";
import type { ApiClient } from "./api-client.js";

type Job = Static<typeof JobDetail>;
type Progress = Static<typeof RunProgressView>;

const FINAL = new Set(["succeeded", "partial", "failed", "cancelled", "missed"]);
const BAR_WIDTH = 24;

/** A waited-for job ended other than succeeded; the CLI exits with `exitCode`. */
export class JobOutcomeError extends Error {
  constructor(
    readonly job: Job,
    readonly exitCode: number,
  ) {
    super(`job ${job.id} ${job.state}${job.reason ? `: ${job.reason}` : ""}`);
  }
}

/** 0 succeeded; 3 partial (finished, but some sources failed), like the agent; 1 otherwise. */
export function exitCodeOf(state: string): number {
  if (state === "succeeded") return 0;
  return state === "partial" ? 3 : 1;
}

function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** One line: a bar when the total is known, else the bytes so far; then phase and item. */
export function progressLine(job: Pick<Job, "kind" | "state">, progress: Progress | null): string {
  if (!progress) return `${job.kind}: ${job.state}`;
  const done = size(progress.bytesDone);
  let amount = done;
  if (progress.bytesTotal > 0) {
    const fraction = Math.min(1, progress.bytesDone / progress.bytesTotal);
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
    amount = `${bar} ${Math.floor(fraction * 100)}% ${done}/${size(progress.bytesTotal)}`;
  }
  const item = progress.currentItem ? ` ${progress.currentItem}` : "";
  return `${job.kind}: ${progress.phase || job.state} ${amount}${item}`;
}

export interface WaitOptions {
  /** Where progress goes: a redrawn line on a TTY, a line per change otherwise. */
  out: NodeJS.WriteStream;
  pollMs?: number;
}

/** Polls GET /jobs/:id until the job is final, showing its progress; returns the final job. */
export async function waitForJob(client: ApiClient, jobId: string, options: WaitOptions): Promise<Job> {
  const { out } = options;
  let last = "";
  for (;;) {
    const job = await client.get<Job>(`/jobs/${encodeURIComponent(jobId)}`);
    const line = progressLine(job, job.liveProgress);
    if (out.isTTY) out.write(`\r\x1b[2K${line}`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
    if (FINAL.has(job.state)) {
      if (out.isTTY) out.write("\n");
      return job;
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1_000));
  }
}
