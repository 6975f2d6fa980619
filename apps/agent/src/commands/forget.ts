import { type ForgetResult, forget, type GroupBy, type RetentionPolicy } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, table } from "../ui/output.js";
import { count, parseDurationSpec } from "./parse-units.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface ForgetCliOptions extends RepoOptions {
  keepLast?: number;
  keepHourly?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
  keepYearly?: number;
  keepWithin?: string;
  keepTag: string[];
  groupBy: string;
  host?: string;
  tag: string[];
  path: string[];
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function policyOf(o: ForgetCliOptions): RetentionPolicy {
  const p: RetentionPolicy = {};
  if (o.keepLast !== undefined) p.keepLast = o.keepLast;
  if (o.keepHourly !== undefined) p.keepHourly = o.keepHourly;
  if (o.keepDaily !== undefined) p.keepDaily = o.keepDaily;
  if (o.keepWeekly !== undefined) p.keepWeekly = o.keepWeekly;
  if (o.keepMonthly !== undefined) p.keepMonthly = o.keepMonthly;
  if (o.keepYearly !== undefined) p.keepYearly = o.keepYearly;
  if (o.keepWithin !== undefined) p.keepWithin = parseDurationSpec(o.keepWithin, "--keep-within");
  if (o.keepTag.length > 0) p.keepTags = o.keepTag;
  return p;
}

function render(result: ForgetResult, dryRun: boolean): string {
  const parts: string[] = [];
  for (const g of result.groups) {
    parts.push(
      `host ${g.key.host}${g.key.source ? `, source ${g.key.source}` : ""}${g.key.paths ? `, paths ${g.key.paths.join(" ")}` : ""}:`,
    );
    parts.push(
      table([
        ["ID", "TIME", "ACTION", "REASONS"],
        ...g.decisions.map((d) => [
          d.snapshot.id.slice(0, 12),
          d.snapshot.time.replace("T", " ").slice(0, 19),
          d.keep ? "keep" : dryRun ? "would remove" : "remove",
          d.reasons.join(", "),
        ]),
      ]),
    );
  }
  const removing = result.groups.flatMap((g) => g.decisions).filter((d) => !d.keep).length;
  parts.push(
    dryRun
      ? `dry run: ${removing} snapshots would be removed`
      : `${result.removed.length} snapshots removed; run prune to free their data`,
  );
  return parts.join("\n");
}

export function forgetCommand(): Command {
  return withRepoOptions(
    new Command("forget")
      .description(
        "remove snapshots by retention policy (per host, source and paths); --dry-run shows why each is kept",
      )
      .option("--keep-last <n>", "keep the newest n snapshots", count)
      .option("--keep-hourly <n>", "keep the newest snapshot of each of the last n hours", count)
      .option("--keep-daily <n>", "… of each of the last n days", count)
      .option("--keep-weekly <n>", "… of each of the last n ISO weeks", count)
      .option("--keep-monthly <n>", "… of each of the last n months", count)
      .option("--keep-yearly <n>", "… of each of the last n years", count)
      .option(
        "--keep-within <duration>",
        "keep everything within this of the newest snapshot, e.g. 7d, 2w, 1y6m",
      )
      .option("--keep-tag <tag>", "keep snapshots with this tag (repeatable)", collect, [])
      .option("--group-by <grouping>", "group snapshots by host-source-paths or host", "host-source-paths")
      .option("--host <name>", "only consider snapshots of this host")
      .option("--tag <tag>", "only consider snapshots with this tag (repeatable)", collect, [])
      .option("--path <path>", "only consider snapshots of this path (repeatable)", collect, [])
      .option("--dry-run", "show what would be removed and why, remove nothing"),
  ).action(async (opts: ForgetCliOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    try {
      const result = await forget(repo, policyOf(opts), {
        dryRun: opts.dryRun === true,
        groupBy: opts.groupBy as GroupBy,
        filter: { ...(opts.host ? { host: opts.host } : {}), tags: opts.tag, paths: opts.path },
      });
      out.result(result, () => render(result, opts.dryRun === true));
    } finally {
      await repo.close();
    }
  });
}
