import { readFile } from "node:fs/promises";
import type { HostDefinition } from "@pwdr/host";
import { parseYamlDefinition } from "@pwdr/host";
import { RepoError } from "@pwdr/repo";
import { type AgentConfig, agentConfigSchema } from "./agent-config.js";

/** Where the daemon and the CLI look when -c is not given. */
export const DEFAULT_CONFIG = "/etc/pwdr/agent.yaml";

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unknown error";
    const hint = code === "ENOENT" ? "; create one with `pwdr-agent config init`" : "";
    throw new RepoError("invalid_argument", `cannot read the agent config ${file} (${code})${hint}`);
  }
  return parseYamlDefinition(text, file, agentConfigSchema);
}

/** The host-definition part of the config, for recovery points and host restore. */
export function hostDefinitionOf(config: AgentConfig): HostDefinition {
  return {
    ...(config.host ? { host: config.host } : {}),
    ...(config.appVersionCommand ? { appVersionCommand: config.appVersionCommand } : {}),
    sources: config.sources,
    ...(config.services ? { services: config.services } : {}),
    ...(config.health ? { health: config.health } : {}),
  };
}
