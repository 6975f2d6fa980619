import {
  type CheckProgress,
  type CheckReport,
  checkRepository,
  type ReadDataSelection,
  RepoError,
} from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes } from "../ui/output.js";
import { bar, ProgressLine } from "../ui/progress-line.js";
import { parseSize } from "./parse-units.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface CheckCliOptions extends RepoOptions {
  readData?: boolean;
  readDataSubset?: string;
}

export const EXIT_CHECK_FAILED = 21;

/** "2/5" (part 2 of 5), "10%" (random tenth) or "500M" (random packs up to that size). */
export function parseSubset(text: string): ReadDataSelection {
  const part = /^(\d+)\/(\d+)$/.exec(text);
  if (part) return { part: Number(part[1]), of: Number(part[2]) };
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const fraction = Number(pct[1]) / 100;
    if (fraction <= 0 || fraction > 1)
      throw new RepoError("invalid_argument", `--read-data-subset ${text}: use a percentage in (0, 100]`);
    return { fraction };
  }
  return { bytes: parseSize(text, "--read-data-subset") };
}

function renderReport(r: CheckReport): string {
  const lines = [
    ...r.warnings.map((w) => `warning: ${w.message}`),
    ...r.errors.flatMap((e) => [
      `error: ${e.message}`,
      ...e.affected.map(
        (a) =>
          `  affects snapshot ${a.snapshot.slice(0, 12)}: ${a.paths.slice(0, 10).join(", ")}${a.paths.length > 10 ? `, … (${a.paths.length} paths)` : ""}`,
      ),
    ]),
  ];
  const summary = `${r.snapshotsChecked} snapshots, ${r.packsChecked} packs, ${r.blobsChecked} blobs checked; ${r.packsRead} packs (${formatBytes(r.bytesRead)}) read`;
  lines.push(
    r.errors.length === 0
      ? `no errors: ${summary}`
      : `${r.errors.length} errors in ${r.damagedSnapshots.length} snapshots: ${summary}`,
  );
  return lines.join("\n");
}

function describeProgress(p: CheckProgress): string {
  return `${p.phase} ${bar(p.done, p.total)} ${p.done}/${p.total ?? "?"}`;
}

export function checkCommand(): Command {
  return withRepoOptions(
    new Command("check")
      .description("verify the repository's structure; with --read-data also decrypt and verify every byte")
      .option("--read-data", "read and verify all pack data")
      .option("--read-data-subset <subset>", "read part of the data: n/t, a percentage or a size"),
  ).action(async (opts: CheckCliOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    const progress = new ProgressLine(!out.json);
    try {
      const readData = opts.readDataSubset
        ? parseSubset(opts.readDataSubset)
        : opts.readData
          ? "all"
          : undefined;
      const report = await checkRepository(repo, {
        ...(readData ? { readData } : {}),
        onProgress: (p) => progress.update(describeProgress(p)),
      });
      progress.done();
      out.result(report, () => renderReport(report));
      if (report.errors.length > 0) process.exitCode = EXIT_CHECK_FAILED;
    } finally {
      progress.done();
      await repo.close();
    }
  });
}
