import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { LocalBackend, RepoError, Repository, ThrottledBackend } from "@pwdr/repo";
import { parseSize } from "../commands/parse-units.js";
import type { AgentConfig } from "../config/agent-config.js";

/** The repository named in the config, throttled to its bandwidth limit. */
export async function openConfigRepository(config: AgentConfig): Promise<Repository> {
  const local = new LocalBackend(config.repository.path);
  const limit = config.repository.bandwidthLimit;
  const backend = limit ? new ThrottledBackend(local, parseSize(limit, "repository.bandwidthLimit")) : local;
  return Repository.open(backend, await repositoryPassword(config));
}

async function repositoryPassword(config: AgentConfig): Promise<string> {
  const { passwordFile, passwordEnv } = config.repository;
  if (passwordFile) {
    const text = await readFile(passwordFile, "utf8").catch((err: NodeJS.ErrnoException) => {
      throw new RepoError(
        "invalid_argument",
        `cannot read repository.passwordFile ${passwordFile} (${err.code ?? err.message})`,
      );
    });
    return text.replace(/\r?\n$/, "");
  }
  const value = passwordEnv ? process.env[passwordEnv] : undefined;
  if (value === undefined) {
    throw new RepoError("invalid_argument", `repository.passwordEnv names $${passwordEnv}, which is not set`);
  }
  return value;
}

/** The name snapshots carry: the config's host, else the machine's. */
export function hostNameOf(config: AgentConfig): string {
  return config.host ?? hostname();
}
