import { Repository } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput } from "../ui/output.js";
import { backendFor, type RepoOptions, readPassword, withRepoOptions } from "./repo-options.js";

export function initCommand(): Command {
  return withRepoOptions(new Command("init").description("create an encrypted repository")).action(
    async (opts: RepoOptions) => {
      const out = createOutput(opts.json === true);
      const backend = backendFor(opts);
      const repo = await Repository.init(backend, await readPassword(opts));
      out.result(
        { id: repo.id, location: backend.location },
        () => `created repository ${repo.id.slice(0, 12)} at ${backend.location}`,
      );
    },
  );
}
