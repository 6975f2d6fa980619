import { Command } from "commander";
import { withCatalog, withCatalogOptions } from "../cli-options.js";
import { renderTable } from "../table.js";
import type { RebuildReport } from "./rebuild-catalog.js";

function renderReport(report: RebuildReport): string {
  const { created } = report;
  const read = report.repositories.length
    ? renderTable(
        ["REPOSITORY", "HOST", "RECOVERY POINTS"],
        report.repositories.map((r) => [r.name, r.host, String(r.recoveryPoints)]),
      )
    : "no host repositories found\n";
  const skipped = report.skipped.map((s) => `skipped ${s.name}: ${s.reason}\n`).join("");
  const summary =
    `added ${created.hosts} host(s), ${created.repositories} repository row(s), ` +
    `${created.recoveryPoints} recovery point(s), ${created.snapshots} snapshot(s)\n`;
  return `${read}${skipped}${summary}`;
}

/** `catalog rebuild`: the catalog rows the host repositories can vouch for, after the database was lost. */
export function catalogCommand(): Command {
  const catalog = new Command("catalog").description("maintain the catalog database");
  withCatalogOptions(catalog.command("rebuild"))
    .description(
      "recreate hosts, repositories, recovery points and snapshots from <data-dir>/repos (run with the controller stopped; safe to repeat)",
    )
    .option("--json", "print JSON")
    .action(async (opts: { dataDir: string; catalog?: string; json?: boolean }) => {
      // Loaded on use: it brings @pwdr/host and its source drivers, which `serve` does not need.
      const { rebuildCatalog } = await import("./rebuild-catalog.js");
      const report = await withCatalog(opts, (db) => rebuildCatalog(db, opts.dataDir));
      process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : renderReport(report));
      if (report.skipped.length > 0) process.exitCode = 1;
    });
  return catalog;
}
