import { access, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { RepoError } from "@pwdr/repo";
import { Command } from "commander";
import { sampleConfig } from "../config/sample-config.js";
import { createOutput } from "../ui/output.js";
import { configOption, loadConfigFile } from "./config-file.js";

/** `pwdr-agent config init|check`. */
export function configCommand(): Command {
  return new Command("config")
    .description("write a sample agent config, or validate one")
    .addCommand(
      new Command("init")
        .description("write a documented sample config for a PiWardrive host")
        .option("-o, --output <file>", "where to write it (stdout when omitted)")
        .option("--force", "overwrite an existing file")
        .action(async (opts: { output?: string; force?: boolean }) => {
          const text = sampleConfig(
            hostname()
              .toLowerCase()
              .replace(/[^a-z0-9_.-]/g, "-"),
          );
          if (!opts.output) return void process.stdout.write(text);
          const exists = await access(opts.output).then(
            () => true,
            () => false,
          );
          if (exists && !opts.force) {
            throw new RepoError("invalid_argument", `${opts.output} exists; pass --force to overwrite it`);
          }
          await writeFile(opts.output, text, { mode: 0o640 });
          process.stderr.write(
            `wrote ${opts.output}; edit it, then: pwdr-agent config check -c ${opts.output}\n`,
          );
        }),
    )
    .addCommand(
      new Command("check")
        .description("validate a config: every problem with its key, line and column")
        .addOption(configOption())
        .option("--json", "machine-readable output")
        .action(async (opts: { config: string; json?: boolean }) => {
          const config = await loadConfigFile(opts.config);
          // Loaded on use: the daemon module pulls in every source driver.
          const { scheduledJobs } = await import("../daemon/daemon.js");
          const out = createOutput(opts.json === true);
          const summary = {
            file: opts.config,
            sources: config.sources.map((s) => `${s.name} (${s.kind})`),
            schedules: scheduledJobs(config),
          };
          out.result(
            summary,
            () =>
              `${opts.config} is valid: ${summary.sources.join(", ")}; ${summary.schedules.map((s) => `${s.job} "${s.cron}"`).join(", ")}\n`,
          );
        }),
    );
}
