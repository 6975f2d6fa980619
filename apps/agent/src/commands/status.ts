import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { processAlive } from "@pwdr/repo";
import { Command } from "commander";
import type { AgentConfig, JobName } from "../config/agent-config.js";
import { Journal, type RunRecord } from "../daemon/journal.js";
import { nextRunOf } from "../daemon/scheduler.js";
import { createOutput, formatBytes, table } from "../ui/output.js";
import { configOption, loadConfigFile } from "./config-file.js";

interface JobStatus {
  job: JobName;
  cron: string;
  next: string | null;
  lastRun: Pick<RunRecord, "startedAt" | "status" | "durationMs" | "error"> | null;
  lastSuccess: string | null;
}

interface SourceStatus {
  source: string;
  kind: string;
  lastStatus: string;
  lastSuccess: string | null;
}

/** `pwdr-agent status`: is the daemon up, when each job last ran and runs next, each source's last success. */
export function statusCommand(): Command {
  return new Command("status")
    .description("the daemon, each job's last and next run, each source's last successful backup")
    .addOption(configOption())
    .option("--json", "machine-readable output")
    .action(async (opts: { config: string; json?: boolean }) => {
      const config = await loadConfigFile(opts.config);
      const runs = await new Journal(config.stateDir).runs();
      const status = {
        daemon: await daemonState(config),
        jobs: jobStatuses(config, runs),
        sources: sourceStatuses(config, runs),
      };
      createOutput(opts.json === true).result(status, () => renderStatus(status));
    });
}

async function daemonState(config: AgentConfig): Promise<{ running: boolean; pid: number | null }> {
  const pid = Number.parseInt(await readFile(join(config.stateDir, "agent.pid"), "utf8").catch(() => ""), 10);
  return pid > 0 && processAlive(pid) ? { running: true, pid } : { running: false, pid: null };
}

function jobStatuses(config: AgentConfig, runs: RunRecord[]): JobStatus[] {
  const { catchUp: _catchUp, ...crons } = config.schedules ?? {};
  return Object.entries(crons).flatMap(([job, cron]) => {
    if (!cron) return [];
    const mine = runs.filter((r) => r.job === job);
    const last = mine.at(-1);
    const success = mine.filter((r) => r.status === "ok").at(-1);
    const next = nextRunOf(cron, new Date());
    return [
      {
        job: job as JobName,
        cron,
        next: next?.toISOString() ?? null,
        lastRun: last ? pick(last) : null,
        lastSuccess: success?.finishedAt ?? null,
      },
    ];
  });
}

function pick(r: RunRecord): JobStatus["lastRun"] {
  return {
    startedAt: r.startedAt,
    status: r.status,
    ...(r.durationMs === undefined ? {} : { durationMs: r.durationMs }),
    ...(r.error ? { error: r.error } : {}),
  };
}

function sourceStatuses(config: AgentConfig, runs: RunRecord[]): SourceStatus[] {
  const backups = runs.filter((r) => r.job === "backup" && Array.isArray(r.details?.sources));
  return config.sources.map((source) => {
    const results = backups.map((r) => ({
      run: r,
      s: ((r.details?.sources ?? []) as { name: string; status: string }[]).find(
        (x) => x.name === source.name,
      ),
    }));
    const seen = results.filter((x) => x.s);
    const ok = seen.filter((x) => x.s?.status === "ok").at(-1);
    return {
      source: source.name,
      kind: source.kind,
      lastStatus: seen.at(-1)?.s?.status ?? "never",
      lastSuccess: ok?.run.finishedAt ?? null,
    };
  });
}

function renderStatus(status: {
  daemon: { running: boolean; pid: number | null };
  jobs: JobStatus[];
  sources: SourceStatus[];
}): string {
  const daemon = status.daemon.running ? `daemon running (pid ${status.daemon.pid})` : "daemon not running";
  const jobs = table([
    ["JOB", "SCHEDULE", "LAST RUN", "STATUS", "LAST SUCCESS", "NEXT"],
    ...status.jobs.map((j) => [
      j.job,
      j.cron,
      when(j.lastRun?.startedAt),
      j.lastRun?.status ?? "never",
      when(j.lastSuccess),
      when(j.next),
    ]),
  ]);
  const sources = table([
    ["SOURCE", "KIND", "LAST", "LAST SUCCESS"],
    ...status.sources.map((s) => [s.source, s.kind, s.lastStatus, when(s.lastSuccess)]),
  ]);
  return `${daemon}\n\n${jobs}\n${sources}`;
}

function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").slice(0, 19) : "-";
}

/** `pwdr-agent history`: the journal, newest last. */
export function historyCommand(): Command {
  return new Command("history")
    .description("past runs from the local journal: time, job, status, size, duration, errors")
    .addOption(configOption())
    .option("--job <job>", "only this job")
    .option("--limit <n>", "at most this many runs (the newest)", "20")
    .option("--json", "machine-readable output")
    .action(async (opts: { config: string; job?: string; limit: string; json?: boolean }) => {
      const config = await loadConfigFile(opts.config);
      const runs = (await new Journal(config.stateDir).runs())
        .filter((r) => !opts.job || r.job === opts.job)
        .slice(-Math.max(1, Number(opts.limit) || 20));
      createOutput(opts.json === true).result(runs, () =>
        runs.length === 0
          ? "no runs yet\n"
          : table([
              ["STARTED", "JOB", "TRIGGER", "STATUS", "TIME", "SIZE", "ADDED", "DETAIL"],
              ...runs.map((r) => [
                when(r.startedAt),
                r.job,
                r.trigger,
                r.status,
                r.durationMs === undefined ? "" : `${(r.durationMs / 1000).toFixed(1)} s`,
                r.bytes === undefined ? "" : formatBytes(r.bytes),
                r.addedBytes === undefined ? "" : formatBytes(r.addedBytes),
                r.error ?? r.recoveryPoint ?? "",
              ]),
            ]),
      );
    });
}
