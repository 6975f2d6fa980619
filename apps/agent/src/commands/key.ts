import { readFile } from "node:fs/promises";
import { addKey, listKeys, RepoError, removeKey } from "@pwdr/repo";
import { Command } from "commander";
import { createOutput, table } from "../ui/output.js";
import { backendFor, openRepository, type RepoOptions, withRepoOptions } from "./repo-options.js";

interface KeyOptions extends RepoOptions {
  newPasswordFile?: string;
}

async function newPassword(opts: KeyOptions): Promise<string> {
  if (!opts.newPasswordFile)
    throw new RepoError("invalid_argument", "pass --new-password-file <file> with the new password");
  const text = (await readFile(opts.newPasswordFile, "utf8")).replace(/\r?\n$/, "");
  if (!text) throw new RepoError("invalid_argument", `${opts.newPasswordFile} is empty`);
  return text;
}

export function keyCommand(): Command {
  const key = new Command("key").description("manage the repository's passwords (key files)");
  key.addCommand(
    withRepoOptions(new Command("list").description("list key files")).action(async (opts: KeyOptions) => {
      const out = createOutput(opts.json === true);
      const repo = await openRepository(opts);
      const keys = await listKeys(repo.backend);
      out.result(keys, () =>
        table([
          ["ID", "CREATED", "HOST", "USER"],
          ...keys.map((k) => [k.name.slice(0, 12), k.createdAt, k.host, k.user]),
        ]),
      );
    }),
  );
  key.addCommand(
    withRepoOptions(
      new Command("add")
        .description("add a password")
        .option("--new-password-file <file>", "file with the new password"),
    ).action(async (opts: KeyOptions) => {
      const out = createOutput(opts.json === true);
      const repo = await openRepository(opts);
      const name = await addKey(repo.backend, repo.key, await newPassword(opts));
      out.result({ id: name }, () => `added key ${name.slice(0, 12)}`);
    }),
  );
  key.addCommand(
    withRepoOptions(
      new Command("remove").description("remove a key file").argument("<id>", "key id or unique prefix"),
    ).action(async (id: string, opts: KeyOptions) => {
      const out = createOutput(opts.json === true);
      const repo = await openRepository(opts);
      const matches = (await listKeys(backendFor(opts))).filter((k) => k.name.startsWith(id));
      if (matches.length !== 1)
        throw new RepoError("invalid_argument", `key id ${id} matches ${matches.length} keys`);
      await removeKey(repo.backend, (matches[0] as { name: string }).name);
      out.result({ removed: matches[0]?.name }, () => `removed key ${id}`);
    }),
  );
  key.addCommand(
    withRepoOptions(
      new Command("passwd")
        .description("change the password you opened the repository with")
        .option("--new-password-file <file>", "file with the new password"),
    ).action(async (opts: KeyOptions) => {
      const out = createOutput(opts.json === true);
      const repo = await openRepository(opts);
      const added = await addKey(repo.backend, repo.key, await newPassword(opts));
      await removeKey(repo.backend, repo.keyName);
      out.result({ id: added }, () => "password changed");
    }),
  );
  return key;
}
