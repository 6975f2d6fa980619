import { Option } from "commander";
import { DEFAULT_CONFIG } from "../config/load-agent-config.js";

/** `-c/--config`, also from PWDR_CONFIG, defaulting to /etc/pwdr/agent.yaml. */
export function configOption(): Option {
  return new Option("-c, --config <file>", "agent config file").env("PWDR_CONFIG").default(DEFAULT_CONFIG);
}
