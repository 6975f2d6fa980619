import { join } from "node:path";
import { type ApiTokenRole, type Catalog, openCatalog } from "@pwdr/catalog";
import type { Logger } from "@pwdr/logging";
import { makeTempDir, startPostgres } from "@pwdr/test-harness";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import { createApiToken } from "../../api-tokens.js";
import { SessionRegistry } from "../../session-registry.js";
import { type ApiDependencies, buildApi } from "../build-api.js";

export type Provider = "sqlite" | "postgres";

/** A fresh catalog on one provider, an API over it, and a token per role. */
export interface ApiFixture {
  db: Catalog;
  app: FastifyInstance;
  /** The registry the API ends sessions in; tests add fake sessions to it. */
  sessions: SessionRegistry;
  tokens: Record<ApiTokenRole, string>;
  /** Every log line the API wrote. */
  logLines: string[];
  /** Every response body the API sent, to look for leaked secrets. */
  bodies: string[];
  call(who: ApiTokenRole | "anonymous", options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export const CA_FINGERPRINT = "ab".repeat(32);

async function catalogUrl(provider: Provider): Promise<{ url: string; stop(): Promise<void> }> {
  if (provider === "sqlite") {
    return { url: `file:${join(await makeTempDir("pwdr-api-"), "catalog.db")}`, stop: async () => {} };
  }
  const server = await startPostgres();
  return { url: await server.createDatabase("api"), stop: () => server.stop() };
}

function capturingLogger(lines: string[]): Logger {
  const write = (msg: string, fields?: Record<string, unknown>) => {
    lines.push(JSON.stringify({ msg, ...fields }));
  };
  return { debug: write, info: write, warn: write, error: write };
}

export async function openApiFixture(
  provider: Provider,
  wrapDb: (db: Catalog) => Catalog = (db) => db,
  extra: Pick<ApiDependencies, "progress" | "onJobCreated" | "dashboardDir" | "repositories"> = {},
): Promise<ApiFixture> {
  const database = await catalogUrl(provider);
  const catalog = await openCatalog({ url: database.url });
  const logLines: string[] = [];
  const bodies: string[] = [];
  const sessions = new SessionRegistry();
  const app = await buildApi({
    db: wrapDb(catalog.db),
    caFingerprint: CA_FINGERPRINT,
    sessions,
    log: capturingLogger(logLines),
    ...extra,
  });
  const tokens = {} as Record<ApiTokenRole, string>;
  for (const role of ["viewer", "operator", "admin"] as const) {
    tokens[role] = (await createApiToken(catalog.db, { name: `test-${role}`, role })).token;
  }
  return {
    db: catalog.db,
    app,
    sessions,
    tokens,
    logLines,
    bodies,
    async call(who, options) {
      const headers = { ...(options.headers ?? {}) };
      if (who !== "anonymous") headers.authorization = `Bearer ${tokens[who]}`;
      const response = await app.inject({ ...options, headers });
      bodies.push(response.body);
      return response;
    },
    async close() {
      await app.close();
      await catalog.close();
      await database.stop();
    },
  };
}
