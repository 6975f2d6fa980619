import type { Repository } from "@pwdr/repo";
import type { AgentConfig } from "../config/agent-config.js";
import type { JobProgressUpdate } from "./job-outcome.js";

export interface ExecutionContext {
  /** Aborted by a cancel or the deadline; checked between sources and phases. */
  signal: AbortSignal;
  log: (line: string) => void;
  onProgress: (p: JobProgressUpdate) => void;
}

/** One job being run: the agent's config, the run's context, and how to open a repository. */
export interface Run {
  config: AgentConfig;
  ctx: ExecutionContext;
  /** The config's repository, or another host's on the controller (a DR replacement's restore). */
  open: (otherHost?: string) => Promise<Repository>;
}

export async function withRepository<T>(
  run: Run,
  work: (repo: Repository) => Promise<T>,
  otherHost?: string,
): Promise<T> {
  run.ctx.signal.throwIfAborted();
  const repo = await run.open(otherHost);
  try {
    return await work(repo);
  } finally {
    await repo.close();
  }
}
