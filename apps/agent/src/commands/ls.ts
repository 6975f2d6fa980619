import { listFiles } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput } from "../ui/output.js";
import { openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";
import { resolveSnapshot } from "./snapshot-ref.js";

interface LsOptions extends RepoOptions {
  recursive?: boolean;
  long?: boolean;
}

const TYPE_CHAR: Record<string, string> = {
  dir: "d",
  symlink: "l",
  fifo: "p",
  chardev: "c",
  blockdev: "b",
  socket: "s",
  file: "-",
};

function modeString(type: string, mode: number): string {
  const rwx = (m: number) => `${m & 4 ? "r" : "-"}${m & 2 ? "w" : "-"}${m & 1 ? "x" : "-"}`;
  return `${TYPE_CHAR[type] ?? "?"}${rwx(mode >> 6)}${rwx(mode >> 3)}${rwx(mode)}`;
}

export function lsCommand(): Command {
  return withRepoOptions(
    new Command("ls")
      .description("list the files of a snapshot")
      .argument("<snapshot>", "snapshot id, unique prefix or latest")
      .argument("[path]", "directory inside the snapshot", "/")
      .option("-R, --recursive", "list sub-directories too")
      .option("-l, --long", "show mode, owner, size and time"),
  ).action(async (ref: string, path: string, opts: LsOptions) => {
    const out = createOutput(opts.json === true);
    const repo = await openRepository(opts);
    try {
      const snapshot = await resolveSnapshot(repo, ref);
      const rows: string[] = [];
      for await (const e of listFiles(repo, snapshot, { path, recursive: opts.recursive === true })) {
        if (out.json) {
          const { node: _node, pathBytes: _bytes, ...entry } = e;
          process.stdout.write(`${JSON.stringify(entry)}\n`);
        } else if (opts.long) {
          rows.push(
            `${modeString(e.type, e.mode)} ${String(e.uid).padStart(5)} ${String(e.gid).padStart(5)} ${String(e.size).padStart(12)} ${e.mtime.toISOString()} ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ""}`,
          );
        } else rows.push(e.path);
      }
      if (!out.json) process.stdout.write(rows.length ? `${rows.join("\n")}\n` : "");
    } finally {
      await repo.close();
    }
  });
}
