import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startPostgres } from "@pwdr/test-harness";
import type { Provider } from "../catalog-url.js";

/** Empty databases of one provider for a test file; stop() removes them all. */
export interface TestDatabases {
  readonly provider: Provider;
  /** The URL of a new, empty database. */
  fresh(): Promise<string>;
  stop(): Promise<void>;
}

export function sqliteDatabases(): TestDatabases {
  const dir = mkdtempSync(path.join(tmpdir(), "pwdr-catalog-"));
  let count = 0;
  return {
    provider: "sqlite",
    fresh: async () => `file:${path.join(dir, `catalog-${++count}.db`)}`,
    stop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function postgresDatabases(): Promise<TestDatabases> {
  const server = await startPostgres();
  let count = 0;
  return {
    provider: "postgres",
    fresh: () => server.createDatabase(`catalog_${++count}`),
    stop: () => server.stop(),
  };
}

export const testDatabases: Record<Provider, () => Promise<TestDatabases>> = {
  sqlite: async () => sqliteDatabases(),
  postgres: postgresDatabases,
};
