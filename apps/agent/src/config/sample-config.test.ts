import { parseYamlDefinition } from "@pwdr/host";
import { describe, expect, it } from "vitest";
import { agentConfigSchema } from "./agent-config.js";
import { sampleConfig } from "./sample-config.js";

describe("the sample config from `config init`", () => {
  it("is valid as written", () => {
    const config = parseYamlDefinition(sampleConfig("pi-x"), "sample.yaml", agentConfigSchema);
    expect(config.host).toBe("pi-x");
    expect(config.sources.map((s) => s.kind)).toEqual(["postgres", "redis", "config", "files"]);
    expect(config.schedules).toMatchObject({ backup: "15 2 * * *", catchUp: "once" });
    expect(config.verify.readDataSubset).toBe("5%");
  });

  it("points at a mistake by key, line and column", () => {
    const broken = sampleConfig("pi-x").replace('backup: "15 2 * * *"', 'backup: "75 2 * * *"');
    expect(() => parseYamlDefinition(broken, "agent.yaml", agentConfigSchema)).toThrow(
      /agent\.yaml is not a valid definition:\n {2}\d+:11 schedules\.backup: not a cron expression/,
    );
  });
});
