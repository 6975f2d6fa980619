import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import { afterAll, describe, expect, it } from "vitest";
import { hostDefinitionSchema } from "./host-definition.js";
import { DefinitionError, loadHostDefinition, parseYamlDefinition } from "./load-definition.js";

afterAll(stopAll);

const VALID = `host: pi-01
sources:
  - kind: postgres
    name: db
    connection:
      passwordFile: /etc/pwdr/pg.password
    databases: [piwardrive]
  - kind: redis
    name: cache
    dataDir: /var/lib/redis
    service: { type: systemd, units: [redis-server] }
  - kind: config
    name: config
    paths: [/etc/piwardrive, /etc/nginx/sites-enabled]
  - kind: files
    name: data
    paths: [/data, /var/log/piwardrive]
    exclude: ["*.tmp"]
services:
  type: compose
  file: /opt/piwardrive/docker-compose.yml
health:
  url: http://127.0.0.1:8080/api/v1/system/health
`;

function problemsOf(text: string) {
  try {
    parseYamlDefinition(text, "host.yaml", hostDefinitionSchema);
  } catch (err) {
    if (err instanceof DefinitionError) return err.problems;
    throw err;
  }
  throw new Error("expected the definition to be refused");
}

describe("host definition", () => {
  it("loads a valid file and fills in the defaults", async () => {
    const file = join(makeTempDir("pwdr-def-"), "host.yaml");
    writeFileSync(file, VALID);
    const def = await loadHostDefinition(file);
    expect(def.sources[0]).toMatchObject({
      kind: "postgres",
      connection: { host: "127.0.0.1", port: 5432, user: "postgres", passwordFile: "/etc/pwdr/pg.password" },
      jobs: 2,
    });
    expect(def.sources[1]).toMatchObject({
      mode: "files",
      connection: { port: 6379 },
      service: { timeoutMs: 120_000 },
    });
    expect(def.services).toMatchObject({ type: "compose", services: [] });
    expect(def.health).toMatchObject({ expectStatus: 200, attempts: 30, timeoutMs: 5000 });
  });

  it("names the key, line and column of a wrong value", () => {
    const problems = problemsOf(VALID.replace("databases: [piwardrive]", "databases: []\n    jobs: fast"));
    expect(problems).toEqual([
      expect.objectContaining({ key: "sources.0.databases", line: 7, column: 16 }),
      expect.objectContaining({
        key: "sources.0.jobs",
        line: 8,
        column: 11,
        message: expect.stringMatching(/number/),
      }),
    ]);
  });

  it("points at an unknown key, a missing key, and a duplicate source name", () => {
    expect(problemsOf(VALID.replace("    dataDir:", "    datadir: /x\n    dataDir:"))).toEqual([
      expect.objectContaining({
        key: "sources.1",
        line: 10,
        column: 5,
        message: expect.stringMatching(/datadir/),
      }),
    ]);
    expect(problemsOf(VALID.replace("    paths: [/data, /var/log/piwardrive]\n", ""))).toEqual([
      expect.objectContaining({ key: "sources.3.paths", line: 15, column: 5 }),
    ]);
    expect(problemsOf(VALID.replace("name: data", "name: db"))).toEqual([
      expect.objectContaining({ key: "sources.3.name", message: 'duplicate source name "db"' }),
    ]);
  });

  it("refuses relative paths, two password sources, and YAML syntax errors with their place", () => {
    expect(problemsOf(VALID.replace("/etc/nginx/sites-enabled", "nginx"))).toEqual([
      expect.objectContaining({ key: "sources.2.paths.1", message: "must be an absolute path" }),
    ]);
    const both = VALID.replace(
      "passwordFile: /etc/pwdr/pg.password",
      "passwordFile: /a\n      passwordEnv: PGPW",
    );
    expect(problemsOf(both)).toEqual([
      expect.objectContaining({
        key: "sources.0.connection.passwordEnv",
        message: expect.stringMatching(/not both/),
      }),
    ]);
    const syntax = problemsOf("sources:\n  - kind: postgres\n   name: x\n");
    expect(syntax[0]).toMatchObject({ line: 3 });
  });

  it("says which file could not be read", async () => {
    await expect(loadHostDefinition("/nonexistent/host.yaml")).rejects.toThrow(
      /cannot read the definition file \/nonexistent\/host.yaml \(ENOENT\)/,
    );
  });
});

describe("the documented sample", () => {
  it("is a valid definition", async () => {
    const sample = new URL("../../../../docs/examples/piwardrive-host.yaml", import.meta.url).pathname;
    const def = await loadHostDefinition(sample);
    expect(def.sources.map((s) => s.kind)).toEqual(["postgres", "redis", "config", "files"]);
    expect(def.services).toMatchObject({ type: "compose", services: ["api", "worker"] });
  });
});
