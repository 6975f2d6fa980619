import { removeStaleLocks } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput } from "../ui/output.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface UnlockOptions extends RepoOptions {
  removeAll?: boolean;
}

export function unlockCommand(): Command {
  return withRepoOptions(
    new Command("unlock")
      .description("remove stale locks (of dead processes, or not refreshed for 30 minutes)")
      .option("--remove-all", "remove every lock, also live ones: only when you know nothing runs"),
  ).action(async (opts: UnlockOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    const { removed } = await removeStaleLocks(repo, { all: opts.removeAll === true });
    out.result({ removed }, () => (removed.length ? `removed ${removed.length} locks` : "no stale locks"));
  });
}
