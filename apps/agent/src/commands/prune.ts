import { type MaxUnused, type PruneResult, prune, RepoError } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes } from "../ui/output.js";
import { bar, ProgressLine } from "../ui/progress-line.js";
import { parseSize } from "./parse-units.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface PruneCliOptions extends RepoOptions {
  dryRun?: boolean;
  maxUnused: string;
}

function parseMaxUnused(text: string): MaxUnused {
  if (text === "unlimited") return "unlimited";
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent >= 100) throw new RepoError("invalid_argument", "--max-unused must be below 100%");
    return { percent };
  }
  return { bytes: parseSize(text, "--max-unused") };
}

function render(r: PruneResult): string {
  const b = r.plan.bytes;
  const lines = [
    `${r.plan.snapshots} snapshots, ${r.plan.liveBlobs} live blobs; repository ${formatBytes(b.total)}, ${formatBytes(b.unused)} unused`,
    `${r.dryRun ? "would delete" : "deleted"} ${r.plan.deletePacks.length + r.plan.unindexedPacks.length} packs (${formatBytes(b.delete)}), ${r.dryRun ? "would repack" : "repacked"} ${r.plan.repackPacks.length} packs (${formatBytes(b.repack)}, ${formatBytes(b.repackLive)} still in use)`,
    `${r.dryRun ? "estimated size after" : "size now about"}: ${formatBytes(b.after)}`,
  ];
  if (!r.dryRun && r.packsRescued.length > 0)
    lines.push(`kept ${r.packsRescued.length} packs that snapshots written during the prune use`);
  return lines.join("\n");
}

export function pruneCommand(): Command {
  return withRepoOptions(
    new Command("prune")
      .description("delete data no snapshot uses; repack partly used packs")
      .option("--dry-run", "only estimate what would be freed")
      .option("--max-unused <limit>", "unused space to tolerate: a percentage, a size or unlimited", "5%"),
  ).action(async (opts: PruneCliOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    const progress = new ProgressLine(!out.json);
    try {
      const result = await prune(repo, {
        dryRun: opts.dryRun === true,
        maxUnused: parseMaxUnused(opts.maxUnused),
        onProgress: (p) => progress.update(`${p.phase} ${bar(p.done, p.total)} ${p.done}/${p.total}`),
      });
      progress.done();
      out.result(result, () => render(result));
    } finally {
      progress.done();
      await repo.close();
    }
  });
}
