import type { FastifyInstance } from "fastify";
import { type ApiDependencies, buildApi } from "./build-api.js";

export interface ApiServerOptions extends ApiDependencies {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The controller's server certificate (with the CA appended) and key. */
  tls: { cert: string; key: string };
}

export interface RunningApiServer {
  /** https://<host>:<port>, the base URL without the /api/v1 prefix. */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Serves the REST API over HTTPS with the controller's certificate: clients trust the controller CA. */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const app = await buildApi(options, options.tls);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return { url: `https://${host}:${port}`, app, close: () => app.close() };
}
