import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { PeerIdentity } from "@pwdr/protocol";
import { RepoError } from "@pwdr/repo";
import { parseRange } from "../protocol/range-header.js";
import { parseRoute, type Route } from "../protocol/routes.js";
import { type Access, checkAppendSave, checkReadSave, denied } from "./access.js";
import { readBody } from "./read-body.js";
import type { RepositoryFiles } from "./repository-files.js";
import { respondBytes, respondEmpty, respondJson } from "./respond.js";

export interface RequestContext {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
  identity: PeerIdentity;
  maxFileBytes: number;
  access(repository: string): Promise<Access | undefined>;
  repository(name: string): Promise<RepositoryFiles | undefined>;
}

function declaredLength(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers["content-length"];
  return raw === undefined ? undefined : Number(raw);
}

function methodNotAllowed(method: string, route: Route): never {
  throw new RepoError("invalid_argument", `${method.slice(0, 10)} is not allowed on a ${route.kind} path`);
}

/** Authorizes, validates and serves one request; throws RepoErrors for the caller to send. */
export async function handleRequest(ctx: RequestContext): Promise<void> {
  const method = String(ctx.headers[":method"]);
  const route = parseRoute(String(ctx.headers[":path"]));
  const access = await ctx.access(route.repository);
  if (!access) {
    throw denied(`client "${ctx.identity.commonName}" has no access to repository ${route.repository}`);
  }
  const files = await ctx.repository(route.repository);
  if (!files) throw new RepoError("repo_not_found", `the server has no repository ${route.repository}`);
  if (route.kind === "repository") return createRepository(ctx, method, route, files, access);
  if (route.kind === "list") {
    if (method !== "GET") methodNotAllowed(method, route);
    return respondJson(ctx.stream, 200, { files: await files.list(route.type) });
  }
  return serveFile(ctx, method, route, files, access);
}

async function createRepository(
  ctx: RequestContext,
  method: string,
  route: Route,
  files: RepositoryFiles,
  access: Access,
): Promise<void> {
  if (method !== "POST") methodNotAllowed(method, route);
  if (access !== "admin") throw denied("only admin access creates a repository; run init on the controller");
  await files.create();
  respondEmpty(ctx.stream, 201);
}

async function serveFile(
  ctx: RequestContext,
  method: string,
  route: Extract<Route, { kind: "file" }>,
  files: RepositoryFiles,
  access: Access,
): Promise<void> {
  const { handle } = route;
  const owner = ctx.identity.commonName;
  switch (method) {
    case "HEAD": {
      const info = await files.stat(handle);
      return respondEmpty(ctx.stream, info ? 200 : 404, info ? { "content-length": info.size } : {});
    }
    case "GET": {
      const range = parseRange(ctx.headers.range, ctx.maxFileBytes);
      const body = await files.load(handle, range);
      return respondBytes(ctx.stream, range ? 206 : 200, body);
    }
    case "PUT": {
      if (access === "read") checkReadSave(handle);
      if (access === "append") checkAppendSave(handle);
      const body = await readBody(ctx.stream, declaredLength(ctx.headers), ctx.maxFileBytes);
      if (access !== "admin") await files.appendSave(handle, body, owner);
      else await files.save(handle, body);
      return respondEmpty(ctx.stream, 204);
    }
    case "DELETE":
      if (access !== "admin") await files.appendRemove(handle, owner);
      else await files.remove(handle);
      return respondEmpty(ctx.stream, 204);
    default:
      methodNotAllowed(method, route);
  }
}
