import { RepoError } from "@pwdr/repo";
import { Command } from "commander";
import type { AgentConfig, JobName } from "../config/agent-config.js";
import { Journal, type RunRecord } from "../daemon/journal.js";
import { createOutput, formatBytes } from "../ui/output.js";
import { ProgressLine } from "../ui/progress-line.js";
import { EXIT_CHECK_FAILED } from "./check.js";
import { configOption, loadConfigFile } from "./config-file.js";

/** Loaded on use: the daemon pulls in the source drivers and the metrics server. */
const daemonLib = () => import("../daemon/daemon.js");
const jobLib = () => import("../daemon/run-job.js");
const loggingLib = () => import("@pwdr/logging");

/** `run` and `daemon` end with this when the controller refuses the agent's certificate (revoked, unknown, expired). */
export const EXIT_IDENTITY_REFUSED = 4;

/** `pwdr-agent daemon`: the agent's scheduler, linked to the controller with `controller:` (systemd runs it). */
export function daemonCommand(): Command {
  return new Command("daemon")
    .description(
      "run the schedules of the agent config: backups, checks, retention, drills; with `controller:` also the controller's jobs and policy",
    )
    .addOption(configOption())
    .action(async (opts: { config: string }) => {
      await runDaemon(await loadConfigFile(opts.config));
    });
}

/** Runs the daemon until SIGTERM/SIGINT; a refused identity stays refused, so the process exits rather than retry. */
export async function runDaemon(config: AgentConfig, labels?: Record<string, string>): Promise<void> {
  const { Daemon } = await daemonLib();
  const daemon = new Daemon(config, {
    ...(labels ? { labels } : {}),
    onRefused: () => void daemon.stop().then(() => process.exit(EXIT_IDENTITY_REFUSED)),
  });
  await daemon.start();
  const stop = async () => {
    await daemon.stop();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

const JOB_NAMES: JobName[] = ["backup", "check", "retention", "drill"];

/** `pwdr-agent now <job>`: one run, journaled like a scheduled one. */
export function nowCommand(): Command {
  return new Command("now")
    .description(`run a job now: ${JOB_NAMES.join(", ")}`)
    .argument("<job>", JOB_NAMES.join(" | "))
    .addOption(configOption())
    .option("--json", "machine-readable output")
    .action(async (job: string, opts: { config: string; json?: boolean }) => {
      if (!JOB_NAMES.includes(job as JobName)) {
        throw new RepoError("invalid_argument", `unknown job "${job}"; use one of ${JOB_NAMES.join(", ")}`);
      }
      const config = await loadConfigFile(opts.config);
      const out = createOutput(opts.json === true);
      const progress = new ProgressLine(!out.json);
      const { executeJob } = await jobLib();
      const { createLogger } = await loggingLib();
      const record = await executeJob(job as JobName, {
        config,
        journal: new Journal(config.stateDir),
        trigger: "manual",
        log: createLogger("agent", out.json ? "error" : "warn"),
        onProgress: (text) => progress.update(text),
      });
      progress.done();
      out.result(record, () => renderRun(record));
      if (record.status !== "ok")
        process.exitCode = job === "check" ? EXIT_CHECK_FAILED : new RepoError("source_failed", "").exitCode;
    });
}

export function renderRun(r: RunRecord): string {
  const size =
    r.bytes === undefined ? "" : `, ${formatBytes(r.bytes)} (${formatBytes(r.addedBytes ?? 0)} new)`;
  const point = r.recoveryPoint ? `, recovery point ${r.recoveryPoint}` : "";
  const time = r.durationMs === undefined ? "" : ` in ${(r.durationMs / 1000).toFixed(1)} s`;
  return `${r.job} ${r.status}${time}${size}${point}${r.error ? `\n  ${r.error}` : ""}\n`;
}
