import { createInterface } from "node:readline/promises";
import type { HostDefinition, HostRestoreReport, RecoveryPoint, RestoreMapping } from "@pwdr/host";
import { RepoError, type Repository } from "@pwdr/repo";
import { Command, InvalidArgumentError } from "commander";
import { openConfigRepository } from "../daemon/open-config-repository.js";
import { createOutput, formatBytes, type Output, table } from "../ui/output.js";
import { ProgressLine } from "../ui/progress-line.js";
import { configOption } from "./config-file.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface DefinitionOptions extends RepoOptions {
  definition?: string;
  config: string;
}

/**
 * What a host command works on: a definition file plus --repo/--password-file,
 * or the agent config (-c), which names both.
 */
async function hostContext(
  opts: DefinitionOptions,
): Promise<{ definition: HostDefinition; repo: Repository }> {
  if (opts.definition) {
    const { loadHostDefinition } = await hostLib();
    return { definition: await loadHostDefinition(opts.definition), repo: await openRepository(opts) };
  }
  const { loadAgentConfig, hostDefinitionOf } = await configLib();
  const config = await loadAgentConfig(opts.config);
  const repo = opts.repo ? await openRepository(opts) : await openConfigRepository(config);
  return { definition: hostDefinitionOf(config), repo };
}

/** --repo/--password-file when given, else the agent config's repository (local or on the controller). */
async function repositoryOf(opts: RepoOptions & { config: string }): Promise<Repository> {
  if (opts.repo) return openRepository(opts);
  const { loadAgentConfig } = await configLib();
  return openConfigRepository(await loadAgentConfig(opts.config));
}

function withHostOptions(command: Command): Command {
  return withRepoOptions(command)
    .option("-d, --definition <file>", "host definition (YAML); the agent config's when omitted")
    .addOption(configOption());
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Loaded on use: the source drivers (pg, ioredis) would slow every other command's start. */
const hostLib = () => import("@pwdr/host");
/** Loaded on use, like the host library it imports. */
const configLib = () => import("../config/load-agent-config.js");

function pair(flag: string) {
  return (value: string, previous: Record<string, string>): Record<string, string> => {
    const at = value.indexOf("=");
    if (at <= 0 || at === value.length - 1)
      throw new InvalidArgumentError(`${flag} "${value}" must look like from=to`);
    return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
  };
}

/** `pwdr-agent host …`: recovery points of the whole host (every source at once) and host restore. */
export function hostCommand(): Command {
  return new Command("host")
    .description("back up and restore the whole host: PostgreSQL, Redis, configuration and data together")
    .addCommand(hostBackupCommand())
    .addCommand(hostPointsCommand())
    .addCommand(hostRestoreCommand());
}

function hostBackupCommand(): Command {
  return withHostOptions(
    new Command("backup").description("take a recovery point: one snapshot per source, recorded together"),
  ).action(async (opts: DefinitionOptions) => {
    const out = createOutput(opts.json === true);
    const { createRecoveryPoint } = await hostLib();
    const { definition, repo } = await hostContext(opts);
    const progress = new ProgressLine(!out.json);
    try {
      const point = await createRecoveryPoint(repo, definition, {
        onProgress: (p) =>
          progress.update(`${p.source}: ${p.phase} ${p.item ?? ""} ${formatBytes(p.bytesDone)}`),
        log: (line) => out.info(line),
      });
      progress.done();
      out.result(point, () => renderPoint(point));
      if (point.status !== "complete") {
        process.exitCode = new RepoError("source_failed", "").exitCode;
      }
    } finally {
      progress.done();
      await repo.close();
    }
  });
}

function renderPoint(point: RecoveryPoint): string {
  const rows = point.sources.map((s) => [
    s.name,
    s.kind,
    s.status,
    s.version ?? "",
    s.snapshotId?.slice(0, 12) ?? "",
    s.bytes === undefined ? "" : formatBytes(s.bytes),
    s.addedBytes === undefined ? "" : formatBytes(s.addedBytes),
    s.error?.message ?? s.warnings.join("; "),
  ]);
  return `recovery point ${point.id} of ${point.host}: ${point.status}\n${table([
    ["SOURCE", "KIND", "STATUS", "VERSION", "SNAPSHOT", "SIZE", "ADDED", "NOTES"],
    ...rows,
  ])}`;
}

function hostPointsCommand(): Command {
  return withRepoOptions(
    new Command("points")
      .description("list recovery points, oldest first")
      .option("--host <name>", "only this host's")
      .addOption(configOption()),
  ).action(async (opts: RepoOptions & { host?: string; config: string }) => {
    const out = createOutput(opts.json === true);
    const { listRecoveryPoints } = await hostLib();
    const repo = await repositoryOf(opts);
    try {
      const points = await listRecoveryPoints(repo, opts.host ? { host: opts.host } : {});
      out.result(points, () =>
        points.length === 0
          ? "no recovery points\n"
          : table([
              ["ID", "HOST", "STATUS", "SOURCES", "APP"],
              ...points.map((p) => [
                p.id,
                p.host,
                p.status,
                p.sources.map((s) => `${s.name}${s.status === "ok" ? "" : "(failed)"}`).join(","),
                p.appVersion ?? "",
              ]),
            ]),
      );
    } finally {
      await repo.close();
    }
  });
}

interface RestoreOptions extends DefinitionOptions {
  fromHost?: string;
  only: string[];
  mapPath: Record<string, string>;
  mapPort: Record<string, string>;
  mapDb: Record<string, string>;
  targetPrefix?: string;
  allowPartial?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

function hostRestoreCommand(): Command {
  return withHostOptions(
    new Command("restore")
      .description(
        "restore the host from a recovery point: stop services, database, Redis, configuration, data, start services, health check",
      )
      .argument("<point>", `recovery point id (or unique prefix), or "latest" (newest complete one)`)
      .option("--from-host <name>", "restore another host's recovery point (a replacement host)")
      .option("--only <source>", "restore only this source (repeatable)", collect, [])
      .option("--map-path <from=to>", "put a backed-up path elsewhere (repeatable)", pair("--map-path"), {})
      .option(
        "--map-port <from=to>",
        "a server port that differs on this host (repeatable)",
        pair("--map-port"),
        {},
      )
      .option(
        "--map-db <from=to>",
        "restore a database under another name (repeatable)",
        pair("--map-db"),
        {},
      )
      .option("--target-prefix <dir>", "restore configuration and data trees below this directory")
      .option("--allow-partial", "restore the sources that succeeded in a partial recovery point")
      .option("--dry-run", "show the plan, touch nothing")
      .option("-y, --yes", "do not ask for confirmation"),
  ).action(async (point: string, opts: RestoreOptions) => {
    const out = createOutput(opts.json === true);
    const { restoreHost } = await hostLib();
    const { definition: target, repo } = await hostContext(opts);
    try {
      const common = {
        recoveryPoint: point,
        target,
        mapping: mappingOf(opts),
        only: opts.only,
        allowPartial: opts.allowPartial === true,
        ...(opts.fromHost ? { fromHost: opts.fromHost } : {}),
        ...(opts.targetPrefix ? { targetPrefix: opts.targetPrefix } : {}),
      };
      const plan = await restoreHost(repo, { ...common, dryRun: true });
      if (opts.dryRun) return out.result(plan, () => renderReport(plan));
      await confirm(plan, opts, out);
      const progress = new ProgressLine(!out.json);
      const report = await restoreHost(repo, {
        ...common,
        recoveryPoint: plan.recoveryPoint.id,
        onStep: (s) =>
          out.info(`${s.status === "running" ? "…" : s.status} ${s.kind}${s.source ? ` (${s.source})` : ""}`),
        onProgress: (p) => progress.update(`${p.source ?? ""}: ${p.phase} ${p.item ?? ""}`),
      });
      progress.done();
      out.result(report, () => renderReport(report));
      if (report.status === "failed") process.exitCode = new RepoError("source_failed", "").exitCode;
    } finally {
      await repo.close();
    }
  });
}

function mappingOf(opts: RestoreOptions): RestoreMapping {
  const ports: Record<string, number> = {};
  for (const [from, to] of Object.entries(opts.mapPort)) ports[from] = Number(to);
  return { paths: opts.mapPath, ports, databases: opts.mapDb };
}

/** A restore replaces live data: people confirm the plan, scripts pass --yes. */
async function confirm(plan: HostRestoreReport, opts: RestoreOptions, out: Output): Promise<void> {
  if (opts.yes) return;
  if (!process.stdin.isTTY || out.json) {
    throw new RepoError(
      "invalid_argument",
      "a host restore replaces live data: pass --yes to confirm (or --dry-run to see the plan)",
    );
  }
  process.stderr.write(renderReport(plan));
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question("type yes to restore: ");
  rl.close();
  if (answer.trim() !== "yes")
    throw new RepoError("invalid_argument", "host restore not confirmed; nothing was changed");
}

function renderReport(report: HostRestoreReport): string {
  const point = report.recoveryPoint;
  const head = `recovery point ${point.id} of ${point.host} (${point.startedAt}, ${point.status})`;
  const rows = report.steps.map((s, i) => [
    String(i + 1),
    s.status,
    s.kind,
    s.source ?? "",
    s.durationMs === undefined ? "" : `${(s.durationMs / 1000).toFixed(1)} s`,
    s.error?.message ?? s.description,
  ]);
  const summary =
    report.status === "planned"
      ? "dry run: nothing was changed"
      : report.status === "done"
        ? `restored in ${(report.durationMs / 1000).toFixed(1)} s; data as of ${Math.round(report.rpoMs / 60_000)} min ago`
        : (report.failure ?? "failed");
  return `${head}\n${table([["#", "STATUS", "STEP", "SOURCE", "TIME", "DETAIL"], ...rows])}${summary}\n`;
}
