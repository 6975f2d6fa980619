import { diffSnapshots } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes } from "../ui/output.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";
import { resolveSnapshot } from "./snapshot-ref.js";

export function diffCommand(): Command {
  return withRepoOptions(
    new Command("diff")
      .description(
        "show what changed between two snapshots (+ added, - removed, M modified, T type changed, U metadata)",
      )
      .argument("<a>", "older snapshot")
      .argument("<b>", "newer snapshot"),
  ).action(async (refA: string, refB: string, opts: RepoOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    try {
      const a = await resolveSnapshot(repo, refA);
      const b = await resolveSnapshot(repo, refB);
      const diff = diffSnapshots(repo, a, b);
      const changes: { change: string; path: string }[] = [];
      for await (const c of diff) changes.push({ change: c.change, path: c.path });
      const t = diff.totals;
      out.result({ changes, totals: t }, () =>
        [
          ...changes.map((c) => `${c.change} ${c.path}`),
          `${t.added} added, ${t.removed} removed, ${t.modified} modified, ${t.typeChanged} changed type, ${t.metadataOnly} metadata only; +${formatBytes(t.addedBytes)} -${formatBytes(t.removedBytes)}`,
        ].join("\n"),
      );
    } finally {
      await repo.close();
    }
  });
}
