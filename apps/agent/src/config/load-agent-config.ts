import { type HostDefinition, loadYamlDefinition } from "@pwdr/host";
import { type AgentConfig, agentConfigSchema } from "./agent-config.js";

/** Where the daemon and the CLI look when -c is not given. */

export function loadAgentConfig(file: string): Promise<AgentConfig> {
  return loadYamlDefinition(
    file,
    agentConfigSchema,
    "the agent config",
    "; create one with `pwdr-agent config init`",
  );
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
