import { type OverwriteMode, RepoError, type RestoreItem, restoreSnapshot } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes } from "../ui/output.js";
import { bar, ProgressLine } from "../ui/progress-line.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";
import { resolveSnapshot } from "./snapshot-ref.js";

interface RestoreCliOptions extends RepoOptions {
  target?: string;
  include: string[];
  stripPrefix?: boolean;
  overwrite: string;
  dryRun?: boolean;
  host?: string;
  path: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];
const MODES = ["always", "if-changed", "never"];

export function restoreCommand(): Command {
  return withRepoOptions(
    new Command("restore")
      .description("restore a snapshot (all of it, sub-paths or single files) into a target directory")
      .argument("<snapshot>", "snapshot id, unique prefix or latest")
      .option("-t, --target <dir>", "directory to restore into (created when missing)")
      .option("--include <path>", "path inside the snapshot to restore (repeatable)", collect, [])
      .option("--strip-prefix", "put the included directory's content directly into the target")
      .option("--overwrite <mode>", "existing files: always, if-changed or never", "always")
      .option("--dry-run", "list what would be written or replaced, touch nothing")
      .option("--host <name>", "with latest: the latest snapshot of this host")
      .option("--path <path>", "with latest: the latest snapshot of this path (repeatable)", collect, []),
  ).action(async (ref: string, opts: RestoreCliOptions) => {
    const out = createOutput(opts.json === true);
    if (!opts.target) throw new RepoError("invalid_argument", "restore needs --target <dir>");
    if (!MODES.includes(opts.overwrite))
      throw new RepoError("invalid_argument", `--overwrite must be one of ${MODES.join(", ")}`);
    const repo = await openRepository(opts);
    const progress = new ProgressLine(!out.json && !opts.dryRun);
    const items: RestoreItem[] = [];
    try {
      const snapshot = await resolveSnapshot(repo, ref, {
        ...(opts.host ? { host: opts.host } : {}),
        path: opts.path,
      });
      const result = await restoreSnapshot(repo, snapshot, {
        target: opts.target,
        include: opts.include,
        stripPrefix: opts.stripPrefix === true,
        overwrite: opts.overwrite as OverwriteMode,
        dryRun: opts.dryRun === true,
        onProgress: (p) =>
          progress.update(
            `restore ${bar(p.bytes, p.totalBytes)} ${p.files}/${p.totalFiles} files · ${formatBytes(p.bytes)} · ${p.currentPath ?? ""}`,
          ),
        ...(opts.dryRun ? { onItem: (item: RestoreItem) => items.push(item) } : {}),
      });
      progress.done();
      const plan = items.map((i) => ({
        path: i.path,
        target: i.targetPath.toString(),
        type: i.type,
        action: i.action,
        size: i.size,
        ...(i.reason ? { reason: i.reason } : {}),
      }));
      out.result({ snapshot: snapshot.id, ...result, ...(opts.dryRun ? { plan } : {}) }, () =>
        [
          ...plan.map(
            (i) =>
              `${i.action.padEnd(15)} ${i.type.padEnd(7)} ${i.target}${i.reason ? ` (${i.reason})` : ""}`,
          ),
          ...result.errors.map((e) => `warning: ${e.path}: ${e.message}`),
          `${opts.dryRun ? "would restore" : "restored"} ${result.files} files, ${result.dirs} dirs, ${formatBytes(result.bytes)} from snapshot ${snapshot.id.slice(0, 12)}${result.skipped ? `; ${result.skipped} skipped` : ""}`,
        ].join("\n"),
      );
      if (result.errors.length > 0) process.exitCode = 3;
    } finally {
      progress.done();
      await repo.close();
    }
  });
}
