import { dumpFile } from "@pwdr/repo";
import { Command } from "commander";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";
import { resolveSnapshot } from "./snapshot-ref.js";

export function dumpCommand(): Command {
  return withRepoOptions(
    new Command("dump")
      .description("write one file of a snapshot to standard output")
      .argument("<snapshot>", "snapshot id, unique prefix or latest")
      .argument("<path>", "path of the file inside the snapshot"),
  ).action(async (ref: string, path: string, opts: RepoOptions) => {
    const repo = await openRepository(opts);
    try {
      await dumpFile(repo, await resolveSnapshot(repo, ref), path, process.stdout);
    } finally {
      await repo.close();
    }
  });
}
