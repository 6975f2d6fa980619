import { hostname } from "node:os";
import { Backup, type BackupProgress, listSnapshots, type SnapshotEntry } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes } from "../ui/output.js";
import { ProgressLine } from "../ui/progress-line.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";
import { commandOutput } from "./stream-command.js";

interface BackupCliOptions extends RepoOptions {
  host?: string;
  tag: string[];
  exclude: string[];
  include: string[];
  oneFileSystem?: boolean;
  parent?: string;
  stdinFromCommand?: boolean;
  stdinFilename: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export const EXIT_INCOMPLETE = 3;

function describeProgress(p: BackupProgress): string {
  const unchanged = p.filesUnchanged ? ` (${p.filesUnchanged} unchanged)` : "";
  return `files ${p.files}${unchanged} · ${formatBytes(p.bytesRead)} read · ${formatBytes(p.bytesAdded)} added · ${p.currentPath ?? ""}`;
}

async function parentFor(
  repo: Awaited<ReturnType<typeof openRepository>>,
  opts: BackupCliOptions,
  host: string,
  paths: string[],
): Promise<SnapshotEntry | undefined> {
  if (opts.parent === "none") return undefined;
  const all = await listSnapshots(repo, { host });
  if (opts.parent && opts.parent !== "auto") return all.find((s) => s.id.startsWith(opts.parent as string));
  return all.filter((s) => JSON.stringify(s.paths) === JSON.stringify([...paths].sort())).at(-1);
}

export function backupCommand(): Command {
  return withRepoOptions(
    new Command("backup")
      .description("back up files and directories, or a command's output (--stdin-from-command -- cmd args)")
      .argument("[paths...]", "files and directories, or the command with --stdin-from-command")
      .option("--host <name>", "host name recorded in the snapshot", hostname())
      .option("--tag <tag>", "tag the snapshot (repeatable)", collect, [])
      .option("--exclude <glob>", "exclude matching paths (repeatable)", collect, [])
      .option("--include <glob>", "back up only files matching (repeatable)", collect, [])
      .option("--one-file-system", "do not cross file-system boundaries")
      .option(
        "--parent <id>",
        "snapshot to compare with: an id, auto (latest of the same paths) or none",
        "auto",
      )
      .option("--stdin-from-command", "back up the standard output of the command given after --")
      .option("--stdin-filename <path>", "path of the command's output inside the snapshot", "/stdin"),
  ).action(async (args: string[], opts: BackupCliOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    const progress = new ProgressLine(!out.json);
    try {
      const paths = opts.stdinFromCommand
        ? [opts.stdinFilename]
        : args.map((p) => (p.startsWith("/") ? p : `${process.cwd()}/${p}`));
      const parent = opts.stdinFromCommand
        ? undefined
        : await parentFor(repo, opts, opts.host as string, paths);
      const backup = await Backup.start(repo, {
        host: opts.host as string,
        tags: opts.tag,
        exclude: opts.exclude,
        include: opts.include,
        oneFileSystem: opts.oneFileSystem === true,
        ...(parent ? { parent } : {}),
        onProgress: (p) => progress.update(describeProgress(p)),
      });
      try {
        if (opts.stdinFromCommand) {
          const command = commandOutput(args);
          await backup.addStream(opts.stdinFilename, command.stdout);
          await command.done;
        } else {
          for (const p of paths) await backup.addPath(p);
        }
      } catch (err) {
        await backup.abort();
        throw err;
      }
      const result = await backup.finish();
      progress.done();
      const s = result.snapshot.summary;
      out.result(
        {
          snapshotId: result.id,
          parent: result.snapshot.parent ?? null,
          summary: s,
          warnings: result.warnings,
        },
        () =>
          [
            ...result.warnings.map((w) => `warning: ${w.path}: ${w.message}`),
            `snapshot ${result.id.slice(0, 12)} saved: ${s.files} files, ${s.dirs} dirs, ${formatBytes(s.bytes)} processed, ${formatBytes(s.addedBytes)} added in ${(s.durationMs / 1000).toFixed(1)} s`,
          ].join("\n"),
      );
      if (result.warnings.length > 0) process.exitCode = EXIT_INCOMPLETE;
    } finally {
      progress.done();
      await repo.close();
    }
  });
}
