import { listSnapshots } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, formatBytes, table } from "../ui/output.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface SnapshotsOptions extends RepoOptions {
  host?: string;
  tag: string[];
  path: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function snapshotsCommand(): Command {
  return withRepoOptions(
    new Command("snapshots")
      .description("list snapshots, oldest first")
      .option("--host <name>", "only snapshots of this host")
      .option("--tag <tag>", "only snapshots with this tag (repeatable: all must match)", collect, [])
      .option("--path <path>", "only snapshots of this path (repeatable)", collect, []),
  ).action(async (opts: SnapshotsOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    try {
      const snaps = await listSnapshots(repo, {
        ...(opts.host ? { host: opts.host } : {}),
        tags: opts.tag,
        paths: opts.path,
      });
      out.result(snaps, () =>
        snaps.length === 0
          ? "no snapshots\n"
          : table([
              ["ID", "TIME", "HOST", "TAGS", "SIZE", "PATHS"],
              ...snaps.map((s) => [
                s.id.slice(0, 12),
                s.time.replace("T", " ").slice(0, 19),
                s.host,
                s.tags.join(","),
                formatBytes(s.summary?.bytes ?? 0),
                s.paths.join(" "),
              ]),
            ]),
      );
    } finally {
      await repo.close();
    }
  });
}
