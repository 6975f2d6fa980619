// `pwdr-controller api dr …`: central restore and fleet drills with their plan
// shown first, drill RTO trends, DR runs listed, shown, followed live and cancelled.
import { DR_RUN_STATES } from "@pwdr/catalog";
import { Command, Option } from "commander";
import type { Static } from "typebox";
import type { DrillHistoryView, DrPlanView, DrRunDetail, DrRunPage } from "../api/schemas/dr.js";
import { renderTable } from "../table.js";
import type { ApiClient } from "./api-client.js";
import { clientFrom, print } from "./cli-context.js";

type Plan = Static<typeof DrPlanView>;
type Run = Static<typeof DrRunDetail>;

const FINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 1_000;

/** A DR run that did not succeed: the command exits 1 after printing it. */
export class DrOutcomeError extends Error {
  readonly exitCode = 1;
  constructor(run: Pick<Run, "id" | "state" | "reason">) {
    super(`DR run ${run.id} ${run.state}${run.reason ? `: ${run.reason}` : ""}`);
  }
}

const seconds = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? "-" : `${(ms / 1000).toFixed(1)}s`;

export function planText(plan: Plan): string {
  const point = `recovery point ${plan.recoveryPoint?.id} (${plan.recoveryPoint?.time})`;
  const sizes = `RPO ${seconds(plan.rpoMs)}, ${plan.totalBytes} bytes, estimated ${seconds(plan.estimate?.ms)} (${plan.estimate?.note})\n`;
  const head =
    plan.kind === "host-restore"
      ? `restore ${plan.failedHost?.name} onto ${plan.replacementHost?.name} from ${point}\n${sizes}`
      : plan.kind === "drill"
        ? `${plan.mode} drill of ${plan.host?.name}'s ${point} on ${plan.target?.name}\n${sizes}`
        : `plan across ${plan.hosts?.map((h) => h.name).join(", ")}\n`;
  const restores = plan.restores?.length
    ? renderTable(
        ["SOURCE", "KIND", "SIZE", "STEP"],
        plan.restores.map((r) => [r.source, r.kind, String(r.sizeBytes), r.step]),
      )
    : "";
  const steps = renderTable(
    ["#", "STEP", "ON", "TIMEOUT", "ATTEMPTS", "ON FAILURE", "WHAT"],
    plan.steps.map((s) => [
      String(s.position),
      s.name,
      s.hostId ?? "controller",
      seconds(s.timeoutMs),
      String(s.maxAttempts),
      s.onFailure,
      s.description,
    ]),
  );
  const verdict = plan.assessment.ok
    ? "assessment: ok\n"
    : `assessment: REFUSED\n${plan.assessment.problems.map((p) => `  - ${p}\n`).join("")}`;
  return head + restores + steps + verdict;
}

export function runText(run: Run): string {
  const head = `DR run ${run.id} (${run.kind}) ${run.state}${run.reason ? `: ${run.reason}` : ""}\nRTO ${seconds(run.rtoMs)}  RPO ${seconds(run.rpoMs)}\n`;
  return (
    head +
    renderTable(
      ["#", "STEP", "STATE", "ATTEMPT", "TOOK", "PROGRESS", "ERROR"],
      run.steps.map((s) => [
        String(s.position),
        s.name,
        s.state,
        `${s.attempt}/${s.maxAttempts}`,
        seconds(s.durationMs),
        s.liveProgress
          ? `${s.liveProgress.phase} ${s.liveProgress.bytesDone}/${s.liveProgress.bytesTotal || "?"}`
          : "",
        s.error ?? "",
      ]),
    )
  );
}

/** Polls the run until it ends, printing each step that changed state to stderr. */
export async function followRun(client: ApiClient, id: string, out: NodeJS.WritableStream): Promise<Run> {
  const seen = new Map<string, string>();
  for (;;) {
    const run = await client.get<Run>(`/dr/runs/${encodeURIComponent(id)}`);
    for (const s of run.steps) {
      const line = `${s.state}${s.liveProgress ? ` ${s.liveProgress.phase}` : ""}`;
      if (seen.get(s.name) === line) continue;
      seen.set(s.name, line);
      out.write(`[${s.position}] ${s.name}: ${line}${s.error ? ` (${s.error})` : ""}\n`);
    }
    if (FINAL.has(run.state)) return run;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function finish(command: Command, run: Run, wait: boolean): Promise<void> {
  const { client, json } = clientFrom(command);
  const final = wait ? await followRun(client, run.id, process.stderr) : run;
  print(json, final, () => runText(final));
  if (wait && final.state !== "succeeded") throw new DrOutcomeError(final);
}

/** Shows the dry-run plan; with --yes starts the run (the plan goes to stderr) and, with --wait, follows it. */
async function planThenStart(
  command: Command,
  path: string,
  body: object,
  opts: { yes?: boolean; wait?: boolean },
): Promise<void> {
  const { client, json } = clientFrom(command);
  const plan = await client.post<Plan>(path, { ...body, dryRun: true });
  if (!opts.yes) {
    print(json, plan, () => `${planText(plan)}dry run: nothing was changed; add --yes to start\n`);
    return;
  }
  if (!json) process.stderr.write(planText(plan));
  const run = await client.post<Run>(path, { ...body, dryRun: false });
  await finish(command, run, Boolean(opts.wait));
}

function restoreCommand(): Command {
  return new Command("restore")
    .description(
      "restore a failed host onto a replacement (operator): shows the plan; starts only with --yes",
    )
    .argument("<failed>", "failed host id or name")
    .argument("<replacement>", "replacement host id or name (a newly enrolled agent)")
    .option("--point <id>", "recovery point of the failed host (default: its newest complete one)")
    .option("--at <time>", "the newest complete recovery point at or before this ISO 8601 time")
    .option("--yes", "start the run after showing the plan")
    .option("--wait", "follow the run until it ends; exit 1 unless it succeeded")
    .action(async (failed: string, replacement: string, opts, command: Command) => {
      const body = {
        failedHostId: failed,
        replacementHostId: replacement,
        ...(opts.point ? { recoveryPointId: opts.point } : {}),
        ...(opts.at ? { at: opts.at } : {}),
      };
      await planThenStart(command, "/dr/restores", body, opts);
    });
}

function drillCommand(): Command {
  return new Command("drill")
    .description(
      "drill a host's recovery point onto a standby or sandbox agent (operator): shows the plan; starts only with --yes",
    )
    .argument("<host>", "host id or name whose recovery point is drilled")
    .requiredOption("--onto <target>", "the standby or sandbox agent (id or name)")
    .addOption(
      new Option(
        "--mode <mode>",
        "sandbox: throw-away servers, data checked; standby: the runbook onto its services",
      )
        .choices(["sandbox", "standby"])
        .default("sandbox"),
    )
    .option("--point <id>", "recovery point (default: the newest complete one)")
    .option("--yes", "start the drill after showing the plan")
    .option("--wait", "follow the drill until it ends; exit 1 unless it succeeded")
    .action(async (host: string, opts, command: Command) => {
      const body = {
        hostId: host,
        targetHostId: opts.onto,
        mode: opts.mode,
        ...(opts.point ? { recoveryPointId: opts.point } : {}),
      };
      await planThenStart(command, "/dr/drills", body, opts);
    });
}

function drillsCommand(): Command {
  return new Command("drills")
    .description("a host's fleet drills and the trend of their RTO (viewer)")
    .argument("<host>", "host id or name")
    .option("--limit <n>", "how many, newest", "50")
    .action(async (host: string, opts: { limit: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({ host, limit: opts.limit });
      const history = await client.get<Static<typeof DrillHistoryView>>(`/dr/drills?${query}`);
      print(json, history, () => drillsText(history));
    });
}

export function drillsText(history: Static<typeof DrillHistoryView>): string {
  const { trend } = history;
  const rows = history.drills.map((d) => [
    d.startedAt ?? "-",
    d.mode,
    d.targetHost?.name ?? "-",
    d.state,
    seconds(d.rtoMs),
    seconds(d.rpoMs),
    d.scheduled ? "schedule" : "operator",
    d.reason ?? "",
  ]);
  const table = rows.length
    ? renderTable(["STARTED", "MODE", "ONTO", "STATE", "RTO", "RPO", "BY", "REASON"], rows)
    : `no fleet drills of ${history.host.name} yet\n`;
  return (
    table +
    `${trend.succeeded}/${trend.drills} drills succeeded; RTO last ${seconds(trend.lastRtoMs)}, median ${seconds(trend.medianRtoMs)}; ` +
    `recent ${seconds(trend.recentMedianRtoMs)} vs earlier ${seconds(trend.earlierMedianRtoMs)}: ${trend.direction}\n`
  );
}

function runsCommand(): Command {
  const runs = new Command("runs").description("DR runs (viewer; cancel: operator)");
  runs
    .command("list")
    .description("list DR runs, newest first")
    .addOption(new Option("--state <state>", "only runs in this state").choices(DR_RUN_STATES))
    .option("--limit <n>", "how many", "50")
    .action(async (opts: { state?: string; limit: string }, command: Command) => {
      const { client, json } = clientFrom(command);
      const query = new URLSearchParams({ limit: opts.limit, ...(opts.state ? { state: opts.state } : {}) });
      const page = await client.get<Static<typeof DrRunPage>>(`/dr/runs?${query}`);
      print(json, page, () =>
        page.runs.length
          ? renderTable(
              ["CREATED", "KIND", "STATE", "FAILED", "REPLACEMENT", "RTO", "RPO", "ID"],
              page.runs.map((r) => [
                r.createdAt,
                r.kind,
                r.state,
                r.failedHostId ?? "-",
                r.replacementHostId ?? "-",
                seconds(r.rtoMs),
                seconds(r.rpoMs),
                r.id,
              ]),
            )
          : "no DR runs\n",
      );
    });
  runs
    .command("show")
    .description("show a run's steps, progress and RTO/RPO; --wait follows it to the end")
    .argument("<id>", "DR run id")
    .option("--wait", "follow the run until it ends; exit 1 unless it succeeded")
    .action(async (id: string, opts: { wait?: boolean }, command: Command) => {
      const { client } = clientFrom(command);
      const run = await client.get<Run>(`/dr/runs/${encodeURIComponent(id)}`);
      await finish(command, run, Boolean(opts.wait));
    });
  runs
    .command("cancel")
    .description("cancel a running DR run (operator)")
    .argument("<id>", "DR run id")
    .action(async (id: string, _opts: object, command: Command) => {
      const { client, json } = clientFrom(command);
      const run = await client.post<Run>(`/dr/runs/${encodeURIComponent(id)}/cancel`, {});
      print(json, run, () => runText(run));
    });
  return runs;
}

export function drCommand(): Command {
  return new Command("dr")
    .description("disaster recovery: central restore of a failed host, fleet drills, DR runs")
    .addCommand(restoreCommand())
    .addCommand(drillCommand())
    .addCommand(drillsCommand())
    .addCommand(runsCommand());
}
