import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { type Backend, LocalBackend, RepoError, Repository, ThrottledBackend } from "@pwdr/repo";
import { parseSize } from "../commands/parse-units.js";
import type { AgentConfig } from "../config/agent-config.js";

/**
 * The repository named in the config (local, or on the controller), throttled
 * to its bandwidth limit; or `otherHost`'s repository on the controller (a DR
 * replacement restoring the failed host), reached with this agent's identity.
 */
export async function openConfigRepository(config: AgentConfig, otherHost = ""): Promise<Repository> {
  const { backend, password } =
    config.repository.controller || otherHost
      ? await controllerRepository(config, otherHost)
      : await localRepository(config);
  const limit = config.repository.bandwidthLimit;
  const throttled = limit
    ? new ThrottledBackend(backend, parseSize(limit, "repository.bandwidthLimit"))
    : backend;
  try {
    return await Repository.open(throttled, password);
  } catch (err) {
    await (throttled as Partial<{ close(): Promise<void> }>).close?.();
    throw err;
  }
}

async function controllerRepository(
  config: AgentConfig,
  repository: string,
): Promise<{ backend: Backend; password: string }> {
  // Loaded on use: gRPC and HTTP/2 would otherwise slow every local repository command's start.
  const { connectControllerRepository } = await import("../controller-repository.js");
  return connectControllerRepository(identityDirOf(config), repository);
}

async function localRepository(config: AgentConfig): Promise<{ backend: Backend; password: string }> {
  const { path } = config.repository;
  if (!path) throw new RepoError("invalid_argument", "repository.path is not set");
  return { backend: new LocalBackend(path), password: await repositoryPassword(config) };
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

/** Where `pwdr-agent enroll` left this agent's identity. */
export function identityDirOf(config: AgentConfig): string {
  return config.repository.dataDir ?? config.controller?.dataDir ?? config.stateDir;
}
