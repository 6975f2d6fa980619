import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * The vitest settings every project shares. Each run also writes a JSON
 * report to test-artifacts/vitest/<project>.json, which tools/test-summary.mjs
 * adds up into the closing "N passed, N failed" line CI reads.
 */
export function projectTestConfig(
  projectDir: string,
  overrides: { testTimeout?: number; maxWorkers?: number } = {},
) {
  const { name } = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as { name: string };
  const report = join(
    import.meta.dirname,
    "test-artifacts",
    "vitest",
    `${name.replace(/^@pwdr\//, "")}.json`,
  );
  return defineConfig({
    root: projectDir,
    resolve: { conditions: ["development"] },
    test: {
      include: ["src/**/*.test.ts"],
      testTimeout: overrides.testTimeout ?? 60_000,
      ...(overrides.maxWorkers ? { maxWorkers: overrides.maxWorkers } : {}),
      hookTimeout: 120_000,
      reporters: ["default", ["json", { outputFile: report }]],
    },
  });
}
