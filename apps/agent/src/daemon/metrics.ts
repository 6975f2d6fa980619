import Fastify, { type FastifyInstance } from "fastify";
import { Counter, Gauge, Registry } from "prom-client";
import type { RunRecord } from "./journal.js";

interface SourceResult {
  name: string;
  kind: string;
  status: string;
  bytes?: number;
  addedBytes?: number;
  durationMs: number;
}

/** The agent's Prometheus metrics: per job and per source, last success, durations, bytes, failures. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly #lastSuccess = this.#gauge(
    "pwdr_job_last_success_timestamp_seconds",
    "Unix time of the job's last successful run",
    ["job"],
  );
  readonly #duration = this.#gauge("pwdr_job_last_duration_seconds", "Duration of the job's last run", [
    "job",
  ]);
  readonly #runs = new Counter({
    name: "pwdr_job_runs_total",
    help: "Runs of each job by outcome",
    labelNames: ["job", "status"],
    registers: [this.registry],
  });
  readonly #sourceSuccess = this.#gauge(
    "pwdr_source_last_success_timestamp_seconds",
    "Unix time of the source's last successful backup",
    ["source", "kind"],
  );
  readonly #sourceDuration = this.#gauge(
    "pwdr_source_last_duration_seconds",
    "Duration of the source's last backup",
    ["source", "kind"],
  );
  readonly #sourceBytes = this.#gauge("pwdr_source_last_bytes", "Bytes the source's last backup covered", [
    "source",
    "kind",
  ]);
  readonly #sourceAdded = this.#gauge(
    "pwdr_source_last_added_bytes",
    "Bytes the source's last backup added to the repository",
    ["source", "kind"],
  );
  readonly #sourceFailures = new Counter({
    name: "pwdr_source_failures_total",
    help: "Failed backups of each source",
    labelNames: ["source", "kind"],
    registers: [this.registry],
  });
  readonly #repoSize = this.#gauge("pwdr_repository_size_bytes", "Bytes the repository occupies", []);
  readonly #running = this.#gauge("pwdr_job_running", "1 while the job runs", ["job"]);
  readonly #drillRestore = this.#gauge(
    "pwdr_drill_last_restore_seconds",
    "Restore time of the last passed drill (an RTO estimate)",
    [],
  );

  #gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  started(job: string): void {
    this.#running.set({ job }, 1);
  }

  finished(record: RunRecord): void {
    this.#running.set({ job: record.job }, 0);
    this.#runs.inc({ job: record.job, status: record.status });
    this.#duration.set({ job: record.job }, (record.durationMs ?? 0) / 1000);
    if (record.status === "ok")
      this.#lastSuccess.set({ job: record.job }, Date.parse(record.finishedAt ?? record.startedAt) / 1000);
    if (record.job === "drill" && record.status === "ok")
      this.#drillRestore.set(Number(record.details?.restoreMs ?? 0) / 1000);
    if (record.job !== "backup") return;
    const sources = record.details?.sources as SourceResult[] | undefined;
    for (const s of sources ?? []) this.#source(s, record);
  }

  #source(s: SourceResult, record: RunRecord): void {
    const labels = { source: s.name, kind: s.kind };
    if (s.status !== "ok") {
      this.#sourceFailures.inc(labels);
      return;
    }
    this.#sourceSuccess.set(labels, Date.parse(record.finishedAt ?? record.startedAt) / 1000);
    this.#sourceDuration.set(labels, s.durationMs / 1000);
    this.#sourceBytes.set(labels, s.bytes ?? 0);
    this.#sourceAdded.set(labels, s.addedBytes ?? 0);
  }

  repositorySize(bytes: number): void {
    this.#repoSize.set(bytes);
  }
}

/** Serves /metrics on loopback only: metrics reveal paths and sizes, not for the network. */
export async function serveMetrics(metrics: AgentMetrics, port: number): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  await app.listen({ host: "127.0.0.1", port });
  return app;
}
