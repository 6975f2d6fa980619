import { Option } from "commander";
import type { AgentConfig } from "../config/agent-config.js";
// Here, not in load-agent-config.ts: that module loads the host and source
// drivers (~0.25 s), which every command would pay for just for this default.
export const DEFAULT_CONFIG = "/etc/pwdr/agent.yaml";

/** `-c/--config`, also from PWDR_CONFIG, defaulting to /etc/pwdr/agent.yaml. */
export function configOption(): Option {
  return new Option("-c, --config <file>", "agent config file").env("PWDR_CONFIG").default(DEFAULT_CONFIG);
}

/** Reads and validates the agent config; its module is loaded on use (see DEFAULT_CONFIG). */
export async function loadConfigFile(file: string): Promise<AgentConfig> {
  const { loadAgentConfig } = await import("../config/load-agent-config.js");
  return loadAgentConfig(file);
}
