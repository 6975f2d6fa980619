import { JOB_KINDS } from "@pwdr/catalog";
import { Command, Option } from "commander";
import type { Static } from "typebox";
import type { HostSummary } from "../api/schemas/host.js";
import type { CancelView, JobDetail, JobPage, JobView } from "../api/schemas/job.js";
import type { RecoveryPointDetail, RecoveryPointPage } from "../api/schemas/recovery-point.js";
import { renderTable } from "../table.js";
import type { ApiClient } from "./api-client.js";
import { clientFrom, print } from "./cli-context.js";
import { exitCodeOf, JobOutcomeError, waitForJob } from "./job-wait.js";

type Job = Static<typeof JobView>;

const collect = (value: string, previous: string[]) => [...previous, value];

/** Accepts a host id or a host name, as operators know hosts by name. */
async function resolveHost(client: ApiClient, ref: string): Promise<Static<typeof HostSummary>> {
  const { hosts } = await client.get<{ hosts: Static<typeof HostSummary>[] }>("/hosts");
  const host = hosts.find((h) => h.id === ref) ?? hosts.find((h) => h.name === ref);
  if (!host) throw new Error(`no host with id or name "${ref}"; \`api hosts\` lists them`);
  return host;
}

function jobTable(jobs: Job[]): string {
  return renderTable(
    ["CREATED", "KIND", "STATE", "HOST", "ATTEMPT", "BY", "ID"],
    jobs.map((j) => [j.createdAt, j.kind, j.state, j.hostId, String(j.attempt), j.createdBy, j.id]),
  );
}

function queryOf(options: Record<string, string | undefined>): string {
  const entries = Object.entries(options).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}

/** Waits when asked, prints the job, and fails the command when the job did not succeed. */
async function finish(command: Command, job: Job, wait: boolean): Promise<void> {
  const { client, json } = clientFrom(command);
  if (!wait) {
    print(json, job, () => `queued ${job.kind} job ${job.id} for host ${job.hostId}\n`);
    return;
  }
  const final = await waitForJob(client, job.id, { out: process.stderr });
  print(json, final, () => `job ${final.id} ${final.state}${final.reason ? `: ${final.reason}` : ""}\n`);
  const code = exitCodeOf(final.state);
  if (code !== 0) throw new JobOutcomeError(final, code);
}

interface StartOptions {
  source: string[];
  point?: string;
  dryRun?: boolean;
  spec?: string;
  idempotencyKey?: string;
  wait?: boolean;
}

/** The spec from --spec, with the common flags laid over it; the API checks it against the kind. */
function specOf(opts: StartOptions): Record<string, unknown> {
  let spec: Record<string, unknown> = {};
  if (opts.spec) {
    try {
      spec = JSON.parse(opts.spec) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--spec: ${(err as Error).message}; expected a JSON object, e.g. '{"sources":["db"]}'`);
    }
  }
  return {
    ...spec,
    ...(opts.source.length ? { sources: opts.source } : {}),
    ...(opts.point ? { recoveryPointId: opts.point } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  };
}

function jobsStart(): Command {
  return new Command("start")
    .description("queue a job for a host (operator); --wait follows it to the end")
    .argument("<host>", "host id or name")
    .addArgument(new Command().createArgument("<kind>", "what to run").choices(JOB_KINDS))
    .option("--source <name>", "a source to back up or restore (repeatable; default all)", collect, [])
    .option("--point <id>", "recovery point for restore or drill")
    .option("--dry-run", "restore or prune: only report what would be done")
    .option("--spec <json>", 'the whole spec as JSON, e.g. \'{"retention":{"keepDaily":7}}\' for prune')
    .option("--idempotency-key <key>", "repeat a request safely: the same key returns the first job")
    .option("--wait", "follow the job until it ends; exit 1 if it failed, 3 if partial")
    .action(async (hostRef: string, kind: string, opts: StartOptions, command: Command) => {
      const { client } = clientFrom(command);
      const host = await resolveHost(client, hostRef);
      const headers = opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : undefined;
      const job = await client.post<Job>("/jobs", { hostId: host.id, kind, spec: specOf(opts) }, headers);
      await finish(command, job, Boolean(opts.wait));
    });
}

export function jobsCommand(): Command {
  const jobs = new Command("jobs").description("jobs on hosts (viewer reads, operator starts and cancels)");
  jobs
    .command("list")
    .description("list jobs, newest first")
    .option("--host <host>", "only this host (id or name)")
    .option("--state <state>", "only jobs in this state, e.g. failed")
    .option("--kind <kind>", "only this kind, e.g. backup")
    .option("--limit <n>", "how many", "50")
    .option("--cursor <id>", "continue after this page (the nextCursor of --json)")
    .action(async (opts: Record<string, string | undefined>, command: Command) => {
      const { client, json } = clientFrom(command);
      const page = await client.get<Static<typeof JobPage>>(`/jobs${queryOf(opts)}`);
      print(json, page, () => (page.jobs.length ? jobTable(page.jobs) : "no jobs match\n"));
    });
  jobs
    .command("show")
    .description("show a job with its runs and live progress")
    .argument("<id>", "job id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const job = await client.get<Static<typeof JobDetail>>(`/jobs/${encodeURIComponent(id)}`);
      print(json, job, () => renderJob(job));
    });
  jobs.addCommand(jobsStart());
  jobs
    .command("cancel")
    .description("cancel a job (operator); a running job stops when its agent reports")
    .argument("<id>", "job id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const outcome = await client.post<Static<typeof CancelView>>(
        `/jobs/${encodeURIComponent(id)}/cancel`,
        {},
      );
      print(json, outcome, () => {
        if (outcome.cancelledNow) return `cancelled job ${id}\n`;
        return outcome.sentToAgent
          ? `asked the agent to stop job ${id}; its final state comes with the agent's result\n`
          : `job ${id} is ${outcome.job.state} but its host has no open session; the request is recorded, try again when it is online\n`;
      });
    });
  return jobs;
}

function renderJob(job: Static<typeof JobDetail>): string {
  const fields = renderTable(
    ["FIELD", "VALUE"],
    (
      [
        "id",
        "kind",
        "state",
        "reason",
        "hostId",
        "createdBy",
        "scheduledFor",
        "finishedAt",
        "attempt",
      ] as const
    ).map((f) => [f, String(job[f] ?? "-")]),
  );
  const runs = job.runs.length
    ? renderTable(
        ["RUN", "STATE", "STARTED", "FINISHED", "READ", "ADDED", "ERROR", "POINT"],
        job.runs.map((r) => [
          r.runId,
          r.state,
          r.startedAt,
          r.finishedAt ?? "-",
          String(r.bytesRead),
          String(r.bytesAdded),
          r.errorCode ?? "-",
          r.recoveryPointId ?? "-",
        ]),
      )
    : "no runs yet\n";
  const live = job.liveProgress
    ? `progress: ${job.liveProgress.phase} ${job.liveProgress.bytesDone} bytes\n`
    : "";
  return `${fields}\n${runs}${live}`;
}

export function recoveryPointsCommand(): Command {
  const points = new Command("recovery-points").description("what a restore can pick (viewer)");
  points
    .command("list")
    .description("list recovery points, newest first")
    .option("--host <host>", "only this host (id or name)")
    .addOption(new Option("--status <status>", "only this status").choices(["complete", "partial", "failed"]))
    .option("--limit <n>", "how many", "50")
    .option("--cursor <id>", "continue after this page")
    .action(async (opts: Record<string, string | undefined>, command: Command) => {
      const { client, json } = clientFrom(command);
      const page = await client.get<Static<typeof RecoveryPointPage>>(`/recovery-points${queryOf(opts)}`);
      print(json, page, () =>
        page.recoveryPoints.length
          ? renderTable(
              ["ID", "HOST", "TIME", "STATUS", "SNAPSHOTS"],
              page.recoveryPoints.map((p) => [p.id, p.hostName, p.time, p.status, String(p.snapshotCount)]),
            )
          : "no recovery points match\n",
      );
    });
  points
    .command("show")
    .description("show a recovery point with its snapshots")
    .argument("<id>", "recovery point id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const point = await client.get<Static<typeof RecoveryPointDetail>>(
        `/recovery-points/${encodeURIComponent(id)}`,
      );
      print(
        json,
        point,
        () =>
          `${point.id}  ${point.hostName}  ${point.time}  ${point.status}\n` +
          renderTable(
            ["SOURCE", "KIND", "STATUS", "SIZE", "FILES", "REPOSITORY", "SNAPSHOT"],
            point.snapshots.map((s) => [
              s.sourceName,
              s.sourceKind,
              s.status,
              String(s.sizeBytes),
              String(s.fileCount),
              s.repository,
              s.snapshotId,
            ]),
          ),
      );
    });
  return points;
}

export function restoreCommand(): Command {
  return new Command("restore")
    .description("restore a recovery point onto its host (operator); the newest complete one by default")
    .argument("<host>", "host id or name")
    .option("--point <id>", "recovery point id (default: the newest complete one)")
    .option("--source <name>", "restore only this source (repeatable)", collect, [])
    .option("--target-prefix <dir>", "restore under this directory instead of the original paths")
    .option(
      "--include <path>",
      "restore only this file or directory of the one config or files --source (repeatable)",
      collect,
      [],
    )
    .option("--dry-run", "only report what would be touched")
    .option("--manage-services", "stop the host's services before and start them after")
    .option("--wait", "follow the restore until it ends; exit 1 if it failed, 3 if partial")
    .action(async (hostRef: string, opts, command: Command) => {
      const { client } = clientFrom(command);
      const host = await resolveHost(client, hostRef);
      const body = {
        ...(opts.point ? { recoveryPointId: opts.point } : {}),
        ...(opts.source.length ? { sources: opts.source } : {}),
        ...(opts.targetPrefix ? { targetPrefix: opts.targetPrefix } : {}),
        ...(opts.include.length ? { include: opts.include } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
        ...(opts.manageServices ? { manageServices: true } : {}),
      };
      const job = await client.post<Job>(`/hosts/${encodeURIComponent(host.id)}/restore`, body);
      await finish(command, job, Boolean(opts.wait));
    });
}
